"""The transaction layer over the loopback transport: retransmission under loss, absorption, no leaks."""

import asyncio
import socket

from dialer.sip.dialog import new_branch, new_tag
from dialer.sip.layer import (
    REPLY_ALLOWANCE_BYTES,
    ServerTransaction,
    TransactionLayer,
    TransactionTimeout,
    response_to,
)
from dialer.sip.message import SipRequest, parse
from dialer.sip.transport import UdpTransport, loopback_pair

SCALE = 0.02  # RFC timers at 2% speed: Timer A 10 ms, Timer B 0.64 s


def options(branch: str | None = None) -> SipRequest:
    request = SipRequest(method="OPTIONS", uri="sip:peer@127.0.0.1:5061")
    request.add("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={branch or new_branch()}")
    request.add("From", f"<sip:dialer@127.0.0.1>;tag={new_tag()}")
    request.add("To", "<sip:peer@127.0.0.1>")
    request.add("Call-ID", new_tag())
    request.add("CSeq", "1 OPTIONS")
    return request


def invite() -> SipRequest:
    request = options()
    request.method = "INVITE"
    request.set("CSeq", "1 INVITE")
    return request


async def pair(answer):  # type: ignore[no-untyped-def]
    seen: list[SipRequest] = []

    def on_request(txn: ServerTransaction | None, request: SipRequest, source) -> None:  # type: ignore[no-untyped-def]
        seen.append(request)
        if txn is not None:
            answer(txn, request)

    client = TransactionLayer(lambda *_: None, time_scale=SCALE)
    server = TransactionLayer(on_request, time_scale=SCALE)
    client.transport, server.transport = loopback_pair(client.receive, server.receive)
    return client, server, seen


async def test_lost_request_is_retransmitted_and_the_retransmission_absorbed() -> None:
    client, server, seen = await pair(lambda txn, request: txn.respond(response_to(request, 200, "OK", "t1")))
    dropped = []

    def lose_first(data: bytes) -> bool:
        if not dropped:
            dropped.append(data)
            return True
        return False

    client.transport.drop = lose_first  # type: ignore[union-attr]
    txn = client.send_request(options(), ("127.0.0.1", 5061))
    final = await asyncio.wait_for(txn.final, 1)
    assert final.status == 200 and len(seen) == 1 and dropped
    await asyncio.sleep(64 * 0.5 * SCALE + 0.1)  # Timer K and J
    assert client.live == 0 and server.live == 0


async def test_unreachable_peer_times_out_after_timer_b() -> None:
    client, server, seen = await pair(lambda txn, request: None)
    client.transport.drop = lambda data: True  # type: ignore[union-attr]  # every datagram lost
    txn = client.send_request(invite(), ("127.0.0.1", 5061))
    try:
        await asyncio.wait_for(txn.final, 2)
        raise AssertionError("expected a timeout")
    except TransactionTimeout:
        pass
    assert client.live == 0
    assert client.transport.stats.sent == 7  # type: ignore[union-attr]  # at 0, 1, 3, 7, 15, 31, 63 x T1 < 64 x T1
    assert not seen


async def test_invite_retransmissions_are_one_server_transaction() -> None:
    client, server, seen = await pair(lambda txn, request: None)  # answered 100 Trying by the layer only
    request = invite()
    for _ in range(3):
        client.send_raw(request, ("127.0.0.1", 5061))
    await asyncio.sleep(0.05)
    assert len(seen) == 1 and server.live == 1


async def test_failure_is_acked_and_transactions_end() -> None:
    client, server, seen = await pair(lambda txn, request: txn.respond(response_to(request, 486, "Busy Here", "b")))
    txn = client.send_request(invite(), ("127.0.0.1", 5061))
    final = await asyncio.wait_for(txn.final, 1)
    assert final.status == 486
    await asyncio.sleep(32 * SCALE + 0.2)
    assert client.live == 0 and server.live == 0  # the ACK confirmed the server transaction


async def test_probe_9_no_datagram_response_outgrows_its_request_by_more_than_the_allowance() -> None:
    """The guard at the layer's edge, over real UDP: whatever a handler answers, a response (first copy and
    every Timer G retransmission) is at most the request's size plus REPLY_ALLOWANCE_BYTES, else withheld."""
    padding: dict[str, int] = {}

    def answer(txn: ServerTransaction | None, request: SipRequest, source) -> None:  # type: ignore[no-untyped-def]
        if txn is not None:
            response = response_to(request, 486, "Busy Here", "t")
            response.add("Warning", "399 dunline " + "x" * padding[request.get("Call-ID") or ""])
            txn.respond(response)

    layer = TransactionLayer(answer, time_scale=SCALE)
    layer.transport = transport = await UdpTransport.bind("127.0.0.1", 0, layer.receive)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender.setblocking(False)
    loop = asyncio.get_running_loop()

    async def replies_to(call_id: str, pad: int) -> tuple[int, list[bytes]]:
        request = invite()
        request.set("Call-ID", call_id)
        padding[call_id] = pad
        data = request.to_bytes()
        sender.sendto(data, transport.local)
        got: list[bytes] = []
        deadline = loop.time() + 64 * 0.5 * SCALE + 0.3  # Timer G retransmissions until Timer H
        while (left := deadline - loop.time()) > 0:
            try:
                got.append(await asyncio.wait_for(loop.sock_recv(sender, 65535), left))
            except asyncio.TimeoutError:
                break
        return len(data), got

    try:
        size, within = await replies_to("within", 100)
        assert [parse(r).status for r in within][:2] == [100, 486] and len(within) > 3  # retransmitted
        assert max(map(len, within)) <= size + REPLY_ALLOWANCE_BYTES
        size, beyond = await replies_to("beyond", size + REPLY_ALLOWANCE_BYTES)
        assert [parse(r).status for r in beyond] == [100]  # the 486 and its retransmissions withheld
        assert len(beyond[0]) <= size
    finally:
        sender.close()
        transport.close()
