#!/usr/bin/perl
# An SMSC for the messaging tests and bench, on Debian's Net::SMPP (libnet-smpp-perl) in its server role:
# the SMPP 3.4 wire (binds, PDUs, deliver_sm) is Net::SMPP's, not ours.
#
#   smsc.pl PORT SYSTEM_ID PASSWORD SPOOL_DIR [--quiet]
#
# - bind_transceiver with the right system_id/password is accepted, any other refused (ESME_RBINDFAIL);
# - each submit_sm is answered with a fresh message id, written as one JSON line to SPOOL_DIR/submitted.jsonl
#   (destination, data_coding, esm_class, short_message as hex: the test decodes and reassembles it), and a
#   delivery receipt follows: stat DELIVRD, or UNDELIV for a destination ending in 99;
# - a file SPOOL_DIR/mo-*.txt ("FROM\tTO\tTEXT", UTF-8) becomes a mobile-originated deliver_sm (UCS-2 when the
#   text is not ASCII), then the file is removed;
# - while a file SPOOL_DIR/hold-receipts exists, receipts are kept in SPOOL_DIR/held-receipts.txt instead; once it
#   is gone, whichever connection is bound then sends them (a carrier's receipts reaching a restarted client);
# - --quiet: no JSON lines (the bench), only a count in SPOOL_DIR/count on unbind.
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
use Encode qw(encode decode);
use POSIX qw(strftime);

my ($port, $system_id, $password, $spool, $quiet) = @ARGV;
die "usage: smsc.pl PORT SYSTEM_ID PASSWORD SPOOL_DIR [--quiet]\n" unless defined $spool;
$quiet = defined $quiet && $quiet eq '--quiet';
$| = 1;

my $server = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34)
    or die "cannot listen on $port: $!";
print "listening $port\n";
$SIG{CHLD} = 'IGNORE';

my $conn;
while (1) {
    $conn = $server->accept or next;
    my $pid = fork;
    last if defined $pid && $pid == 0;
}
undef $server;

my $next_id = 0;
my $count = 0;
my $select = IO::Select->new($conn);
my $bound = 0;
my $log;
open($log, '>>', "$spool/submitted.jsonl") or die "cannot write $spool: $!" unless $quiet;

sub json_str { my $s = shift; $s =~ s/(["\\])/\\$1/g; return "\"$s\""; }

sub receipt_for {
    my ($pdu, $id) = @_;
    my $stat = $pdu->{destination_addr} =~ /99$/ ? 'UNDELIV' : 'DELIVRD';
    my $now = strftime('%y%m%d%H%M', gmtime);
    my $text = sprintf('id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:',
                       $id, $stat eq 'DELIVRD' ? '001' : '000', $now, $now, $stat, $stat eq 'DELIVRD' ? '000' : '001');
    if (-e "$spool/hold-receipts") {
        open(my $held, '>>', "$spool/held-receipts.txt") or die "cannot write $spool: $!";
        print $held join("\t", $pdu->{destination_addr}, $pdu->{source_addr}, $text), "\n";
        close $held;
        return;
    }
    send_receipt($pdu->{destination_addr}, $pdu->{source_addr}, $text);
}

sub send_receipt {
    my ($from, $to, $text) = @_;
    $conn->deliver_sm(source_addr => $from, destination_addr => $to, esm_class => 0x04, data_coding => 0,
                      short_message => $text, async => 1);
}

sub send_held {
    my $file = "$spool/held-receipts.txt";
    open(my $in, '<', $file) or return;
    my @lines = <$in>;
    close $in;
    unlink $file;
    for my $line (@lines) {
        chomp $line;
        send_receipt(split /\t/, $line, 3);
    }
}

sub send_mo {
    my ($file) = @_;
    open(my $in, '<:raw', $file) or return;
    local $/; my $line = <$in>; close $in;
    unlink $file;
    $line =~ s/\r?\n\z//;
    my ($from, $to, $text) = split /\t/, decode('UTF-8', $line), 3;
    my $ascii = $text !~ /[^\x00-\x7f]/;
    $conn->deliver_sm(source_addr => $from, destination_addr => $to, esm_class => 0,
                      data_coding => $ascii ? 0 : 8,
                      short_message => $ascii ? $text : encode('UCS-2BE', $text), async => 1);
}

while (1) {
    if ($bound) {
        for my $file (glob("$spool/mo-*.txt")) { send_mo($file); }
        send_held() if -e "$spool/held-receipts.txt" && !-e "$spool/hold-receipts";
    }
    next unless $select->can_read(0.05);
    my $pdu = $conn->read_pdu() or exit 0;
    my $cmd = $pdu->{cmd};
    if ($cmd == 0x00000009) {  # bind_transceiver
        my $ok = ($pdu->{system_id} // '') eq $system_id && ($pdu->{password} // '') eq $password;
        $conn->bind_transceiver_resp(system_id => 'DunlinePeer', seq => $pdu->{seq}, status => $ok ? 0 : 0x0D,
                                     async => 1);
        exit 0 unless $ok;
        $bound = 1;
    } elsif ($cmd == 0x00000004) {  # submit_sm
        my $id = sprintf('%d%06d', $$, ++$next_id);
        $conn->submit_sm_resp(message_id => $id, seq => $pdu->{seq}, async => 1);
        $count++;
        unless ($quiet) {
            printf $log "{\"id\":%s,\"destination\":%s,\"source\":%s,\"data_coding\":%d,\"esm_class\":%d,\"short_message\":\"%s\"}\n",
                json_str($id), json_str($pdu->{destination_addr}), json_str($pdu->{source_addr}), $pdu->{data_coding},
                $pdu->{esm_class}, unpack('H*', $pdu->{short_message});
            flush $log;
        }
        receipt_for($pdu, $id) if $pdu->{registered_delivery};
    } elsif ($cmd == 0x00000015) {  # enquire_link
        $conn->enquire_link_resp(seq => $pdu->{seq}, async => 1);
    } elsif ($cmd == 0x00000006) {  # unbind
        $conn->unbind_resp(seq => $pdu->{seq}, async => 1);
        if (open(my $out, '>', "$spool/count")) { print $out "$count\n"; close $out; }
        exit 0;
    }
    # responses (deliver_sm_resp, ...) need no answer
}
