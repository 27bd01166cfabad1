"""Against a real, independent SIP peer: SIPp (Debian `sip-tester`) as the trunk / debtor phone."""

import asyncio
import shutil
import socket

import pytest

from dialer.sip.dialog import dialog_from_uac, new_branch, new_tag
from dialer.sip.layer import TransactionLayer
from dialer.sip.message import SipRequest
from dialer.sip.transport import UdpTransport

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) not installed")
SDP = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_call_to_sipp_uas_rings_answers_acks_and_hangs_up() -> None:
    port = free_port()
    sipp = await asyncio.create_subprocess_exec(
        "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-nostdin", "-timeout", "20s",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    await asyncio.sleep(0.5)
    layer = TransactionLayer(lambda *_: None)
    transport = await UdpTransport.bind("127.0.0.1", 0, layer.receive)
    layer.transport = transport
    host, local_port = transport.local
    peer = ("127.0.0.1", port)
    try:
        invite = SipRequest(method="INVITE", uri=f"sip:debtor@127.0.0.1:{port}")
        invite.add("Via", f"SIP/2.0/UDP {host}:{local_port};branch={new_branch()};rport")
        invite.add("Max-Forwards", "70")
        invite.add("From", f"<sip:dialer@{host}>;tag={new_tag()}")
        invite.add("To", f"<sip:debtor@127.0.0.1:{port}>")
        invite.add("Call-ID", f"{new_tag()}@{host}")
        invite.add("CSeq", "1 INVITE")
        invite.add("Contact", f"<sip:dialer@{host}:{local_port}>")
        invite.add("Content-Type", "application/sdp")
        invite.body = SDP
        txn = layer.send_request(invite, peer)
        final = await asyncio.wait_for(txn.final, 10)
        statuses = []
        while not txn.responses.empty():
            statuses.append(txn.responses.get_nowait().status)
        assert final.status == 200 and 180 in statuses
        dialog = dialog_from_uac(invite, final)
        layer.send_raw(dialog.ack_for_2xx(1, f"SIP/2.0/UDP {host}:{local_port};branch={new_branch()}"), peer)
        await asyncio.sleep(0.2)
        bye = dialog.next_request("BYE", f"SIP/2.0/UDP {host}:{local_port};branch={new_branch()}")
        bye_final = await asyncio.wait_for(layer.send_request(bye, peer).final, 10)
        assert bye_final.status == 200
        assert await asyncio.wait_for(sipp.wait(), 15) == 0, (await sipp.stderr.read()).decode()[-500:]
    finally:
        if sipp.returncode is None:
            sipp.kill()
            await sipp.wait()
        transport.close()
