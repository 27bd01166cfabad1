"""SIP message parsing and serialisation against raw wire fixtures (CRLF kept as on the wire)."""

import random
from pathlib import Path

import pytest

from dialer.sip.headers import parse_name_addr, parse_via
from dialer.sip.message import (
    MAX_HEADERS,
    MAX_VIAS,
    SipParseError,
    SipRequest,
    SipResponse,
    parse,
    parse_cseq,
    split_list,
)

WIRE = Path(__file__).parent / "wire"


def wire(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def test_compact_folded_invite_with_list_headers_and_sdp() -> None:
    message = parse(wire("invite_compact_folded.sip"))
    assert isinstance(message, SipRequest) and message.method == "INVITE"
    assert message.uri == "sip:+8613812345678@trunk.example;user=phone"
    vias = [parse_via(v) for v in message.get_all("Via")]
    assert [v.branch for v in vias] == ["z9hG4bKabc", "z9hG4bKdef"]
    assert vias[0].port == 5060 and "rport" in vias[0].params and vias[1].port is None
    assert message.get_all("Record-Route") == ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
    sender = parse_name_addr(message.get("From") or "")
    assert sender.display == "Dun, Line" and sender.tag == "1928301774" and sender.uri == "sip:dialer@10.0.0.1"
    assert message.get("call-id") == "a84b4c76e66710@10.0.0.1" and message.get("Content-Type") == "application/sdp"
    assert message.body.startswith(b"v=0\r\n") and b"telephone-event" in message.body
    assert parse_cseq(message.get("CSeq") or "") == (314159, "INVITE")


def test_round_trip_keeps_every_header_and_the_body() -> None:
    message = parse(wire("invite_compact_folded.sip"))
    again = parse(message.to_bytes(), stream=True)
    assert again.headers == message.headers and again.body == message.body
    assert b"Content-Length: %d\r\n" % len(message.body) in message.to_bytes()


def test_response_with_received_and_rport() -> None:
    message = parse(wire("response_486.sip"))
    assert isinstance(message, SipResponse) and (message.status, message.reason) == (486, "Busy Here")
    via = parse_via(message.get("Via") or "")
    assert via.params["received"] == "192.0.2.4" and via.params["rport"] == "5062"
    assert parse_name_addr(message.get("To") or "").tag == "b3"


@pytest.mark.parametrize("fixture, complaint", [
    ("bad_cseq_method.sip", "does not match"), ("content_length_too_big.sip", "only 5 body bytes"),
    ("negative_content_length.sip", "bad Content-Length"), ("missing_via.sip", "missing mandatory header Via"),
    ("bad_version.sip", "bad start line"), ("huge_cseq.sip", "bad CSeq"),
])
def test_torture_messages_are_refused_with_the_reason(fixture: str, complaint: str) -> None:
    with pytest.raises(SipParseError, match=complaint):
        parse(wire(fixture))


def test_stream_transports_need_content_length() -> None:
    text = wire("response_486.sip").replace(b"Content-Length: 0\r\n", b"")
    assert parse(text).body == b""
    with pytest.raises(SipParseError, match="required"):
        parse(text, stream=True)


def test_random_bytes_and_truncations_only_ever_raise_parse_errors() -> None:
    rng = random.Random(7)
    good = wire("invite_compact_folded.sip")
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(300)]
    samples += [good[:cut] for cut in range(0, len(good), 7)]
    samples += [bytearray(good) for _ in range(200)]
    for sample in samples[-200:]:
        for _ in range(3):
            sample[rng.randrange(len(sample))] = rng.randrange(256)
    samples.append(good + b"x" * 70_000)
    for sample in samples:
        try:
            parse(bytes(sample))
        except SipParseError:
            pass


def test_split_list_respects_quotes_and_brackets() -> None:
    assert split_list('"a, b" <sip:x@h>, <sip:y@h;p=1,2>') == ['"a, b" <sip:x@h>', "<sip:y@h;p=1,2>"]


def amplifying_invite(vias: int, *, one_line: bool) -> bytes:
    """The probe's request: an INVITE whose Vias a naive answer would echo back, many times over."""
    values = [f"SIP/2.0/UDP 198.51.100.{n % 250};branch=z9hG4bK{n}" for n in range(vias)]
    via_lines = ["Via: " + ", ".join(values)] if one_line else [f"Via: {value}" for value in values]
    lines = ["INVITE sip:+861@dunline.test SIP/2.0", *via_lines, "From: <sip:a@198.51.100.1>;tag=1",
             "To: <sip:+861@dunline.test>", "Call-ID: amplify", "CSeq: 1 INVITE", "Max-Forwards: 70",
             "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("vias, one_line", [(1001, True), (200, False), (71, True)])
def test_probe_9_via_count_is_capped_however_the_vias_are_written(vias: int, one_line: bool) -> None:
    with pytest.raises(SipParseError, match="Via"):
        parse(amplifying_invite(vias, one_line=one_line))
    assert len(parse(amplifying_invite(MAX_VIAS, one_line=one_line)).get_all("Via")) == MAX_VIAS


def test_probe_9_header_fields_are_counted_after_list_splitting() -> None:
    routes = ", ".join(f"<sip:p{n}.example;lr>" for n in range(MAX_HEADERS))
    text = wire("response_486.sip").replace(b"Content-Length: 0\r\n", f"Record-Route: {routes}\r\n".encode())
    with pytest.raises(SipParseError, match="header fields"):
        parse(text)
