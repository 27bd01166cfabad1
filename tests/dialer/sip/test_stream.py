"""SIP over real TCP and TLS sockets: framing, keep-alive, connection reuse, unframeable streams, and a
transaction that completes without retransmissions."""

import asyncio
import random
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.sip.dialog import new_branch, new_tag
from dialer.sip.layer import ServerTransaction, TransactionLayer, response_to
from dialer.sip.message import MAX_MESSAGE_BYTES, SipRequest, SipResponse, parse
from dialer.sip.stream import PING, PONG, StreamFramer, StreamTransport
from dialer.sip.transaction import Event
from dialer.sip.transport import Address, TransportStats
from tests.dialer.conftest import server_context

WIRE = Path(__file__).parent / "wire"
Received = tuple[SipRequest | SipResponse, Address]


def options(cseq: int = 1, body: bytes = b"", via: str = "TCP") -> SipRequest:
    request = SipRequest(method="OPTIONS", uri="sip:peer@127.0.0.1")
    request.add("Via", f"SIP/2.0/{via} 127.0.0.1:5060;branch={new_branch()};rport")
    request.add("From", f"<sip:dialer@127.0.0.1>;tag={new_tag()}")
    request.add("To", "<sip:peer@127.0.0.1>")
    request.add("Call-ID", new_tag())
    request.add("CSeq", f"{cseq} OPTIONS")
    request.body = body
    return request


@pytest.fixture
async def endpoint() -> AsyncIterator[Callable[..., Any]]:
    """Binds transports on 127.0.0.1 (closed after the test) whose handler queues what arrives and, with
    `answer`, replies 200 to each request over the same transport."""
    made: list[StreamTransport] = []

    async def make(answer: bool = False, handler: Any = None,
                   **options: Any) -> tuple[StreamTransport, asyncio.Queue[Received]]:
        inbox: asyncio.Queue[Received] = asyncio.Queue()

        def queue_and_answer(message: SipRequest | SipResponse, source: Address) -> None:
            inbox.put_nowait((message, source))
            if answer and isinstance(message, SipRequest):
                transport.send(response_to(message, 200, "OK", new_tag()).to_bytes(), source)

        transport = await StreamTransport.bind("127.0.0.1", 0, handler or queue_and_answer, **options)
        made.append(transport)
        return transport, inbox

    yield make
    for transport in made:
        transport.close()
    await asyncio.sleep(0.01)  # let the cancelled connections close their sockets


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Any]]:
    """Opens plain client sockets to a transport (closed after the test), to write raw bytes."""
    writers: list[asyncio.StreamWriter] = []

    async def make(transport: StreamTransport) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(*transport.local)
        writers.append(writer)
        return reader, writer

    yield make
    for writer in writers:
        writer.close()


async def received(inbox: asyncio.Queue[Received]) -> Received:
    return await asyncio.wait_for(inbox.get(), 2)


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(2):
        while not condition():
            await asyncio.sleep(0.01)


async def closed_by_peer(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), 2) == b""
    except ConnectionResetError:  # closed with our bytes unread
        return True


async def test_request_and_response_are_parsed_on_the_other_side(endpoint: Any) -> None:
    a, a_inbox = await endpoint()
    b, b_inbox = await endpoint(answer=True)
    request = options(body=b"v=0\r\n\r\nblank line inside: only Content-Length frames this body")
    a.send(request.to_bytes(), b.local)
    got, source = await received(b_inbox)
    assert isinstance(got, SipRequest) and got.method == "OPTIONS" and got.body == request.body
    assert source[0] == "127.0.0.1" and source != a.local  # the connection's ephemeral port
    response, origin = await received(a_inbox)
    assert isinstance(response, SipResponse) and response.status == 200 and origin == b.local
    assert a.stats == b.stats == TransportStats(received=1, sent=1)


async def test_responses_and_new_requests_reuse_the_one_connection(endpoint: Any) -> None:
    a, a_inbox = await endpoint(answer=True)
    b, b_inbox = await endpoint(answer=True)
    for cseq in (1, 2, 3):  # written before the connection is up: queued, in order
        a.send(options(cseq).to_bytes(), b.local)
    requests = [await received(b_inbox) for _ in range(3)]
    assert [r.get("CSeq") for r, _ in requests] == ["1 OPTIONS", "2 OPTIONS", "3 OPTIONS"]
    assert [(await received(a_inbox))[0].get("CSeq") for _ in range(3)] == ["1 OPTIONS", "2 OPTIONS", "3 OPTIONS"]
    source = requests[0][1]
    b.send(options(9).to_bytes(), source)  # a request back to the client's address: same connection
    assert (await received(a_inbox))[0].get("CSeq") == "9 OPTIONS"
    assert (await received(b_inbox))[0].get("CSeq") == "9 OPTIONS"
    assert list(a.connections) == [b.local]  # a opened one and accepted none
    assert list(b.connections) == [source]  # b accepted one and opened none


async def test_pipelined_messages_in_one_write(endpoint: Any, connect: Any) -> None:
    b, inbox = await endpoint()
    _, writer = await connect(b)
    writer.write(b"".join(PONG + options(cseq, body=b"x" * cseq).to_bytes() for cseq in (1, 2, 3)))
    got = [(await received(inbox))[0] for _ in range(3)]
    assert [(m.get("CSeq"), m.body) for m in got] == [(f"{n} OPTIONS", b"x" * n) for n in (1, 2, 3)]
    assert b.stats.received == 3 and b.stats.malformed == 0


async def test_message_split_over_many_writes_with_compact_content_length(endpoint: Any, connect: Any) -> None:
    b, inbox = await endpoint()
    data = options(body=b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n").to_bytes().replace(b"Content-Length:", b"l:")
    _, writer = await connect(b)
    for start in range(0, len(data), 7):
        writer.write(data[start : start + 7])
        await writer.drain()
        await asyncio.sleep(0.002)
    message, _ = await received(inbox)
    assert message.body == b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n" and b.stats.received == 1


async def test_keepalive_ping_is_answered_with_pong_and_keeps_the_connection_open(endpoint: Any,
                                                                                   connect: Any) -> None:
    b, inbox = await endpoint(idle_timeout=0.15)
    reader, writer = await connect(b)
    for _ in range(4):  # 0.4 s of pings keep alive a connection that would idle out after 0.15 s
        writer.write(PING)
        assert await asyncio.wait_for(reader.readexactly(2), 1) == PONG
        await asyncio.sleep(0.1)
    writer.write(PONG + options().to_bytes())  # a lone CRLF (a pong) is not answered, the message follows
    assert (await received(inbox))[0].get("CSeq") == "1 OPTIONS"
    assert await closed_by_peer(reader)  # nothing else was sent, then the idle timeout closed it
    assert b.stats == TransportStats(received=1, sent=0, malformed=0) and not b.connections


@pytest.mark.parametrize("length_lines", [
    b"",
    b"Content-Length: abc\r\n",
    b"Content-Length: -1\r\n",
    b"l: 5\r\nContent-Length: 0\r\n",
    b"Content-Length: 99999999999999999999\r\n",
], ids=["missing", "not-a-number", "negative", "two-that-disagree", "absurd"])
async def test_unframeable_stream_is_counted_and_the_connection_closed(endpoint: Any, connect: Any,
                                                                       length_lines: bytes) -> None:
    b, inbox = await endpoint()
    data = options().to_bytes().replace(b"Content-Length: 0\r\n", length_lines)
    reader, writer = await connect(b)
    writer.write(data + options(2).to_bytes())
    assert await closed_by_peer(reader)
    assert b.stats.malformed == 1 and inbox.empty() and not b.connections


async def test_framed_message_that_does_not_parse_closes_the_connection(endpoint: Any, connect: Any) -> None:
    b, inbox = await endpoint()
    reader, writer = await connect(b)
    writer.write((WIRE / "bad_cseq_method.sip").read_bytes() + options().to_bytes())
    assert await closed_by_peer(reader)
    assert b.stats.malformed == 1 and inbox.empty()


@pytest.mark.parametrize("oversized", [
    options().to_bytes().replace(b"Content-Length: 0", f"Content-Length: {MAX_MESSAGE_BYTES}".encode()),
    b"OPTIONS sip:peer@127.0.0.1 SIP/2.0\r\nX-Filler: " + b"a" * (MAX_MESSAGE_BYTES + 10),
])
async def test_oversized_message_closes_the_connection(endpoint: Any, connect: Any, oversized: bytes) -> None:
    b, inbox = await endpoint()
    reader, writer = await connect(b)
    writer.write(oversized)  # the declared size alone is refused: no body is awaited
    assert await closed_by_peer(reader)
    assert b.stats.malformed == 1 and inbox.empty()


async def test_garbage_never_takes_the_listener_down(endpoint: Any, connect: Any) -> None:
    b, _ = await endpoint(answer=True)
    rng = random.Random(7)
    good = (WIRE / "invite_compact_folded.sip").read_bytes()
    junk = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(40)]
    junk += [bytes(rng.randrange(256) for _ in range(200)) + b"\r\n\r\n" for _ in range(20)]
    junk += [good[: rng.randrange(len(good))] for _ in range(20)] + [p.read_bytes() for p in WIRE.glob("*.sip")]
    for data in junk:
        _, writer = await connect(b)
        writer.write(data)
        await writer.drain()
        writer.close()  # unframed leftovers end with the connection
    await eventually(lambda: not b.connections)  # every junk connection ended, none leaked
    assert b.stats.malformed >= 20
    reader, writer = await connect(b)
    writer.write(options(7).to_bytes())
    reply = parse(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2), stream=True)
    assert isinstance(reply, SipResponse) and reply.status == 200 and reply.get("CSeq") == "7 OPTIONS"


async def test_a_failing_handler_is_logged_and_the_connection_lives_on(endpoint: Any, connect: Any,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str | None] = []

    def handler(message: SipRequest | SipResponse, source: Address) -> None:
        seen.append(message.get("CSeq"))
        if len(seen) == 1:
            raise RuntimeError("bug in the handler")

    b, _ = await endpoint(handler=handler)
    _, writer = await connect(b)
    writer.write(options(1).to_bytes() + options(2).to_bytes())
    await eventually(lambda: len(seen) == 2)
    assert "SIP handler failed" in caplog.text and len(b.connections) == 1 and b.stats.malformed == 0


async def test_idle_connections_are_closed_on_both_sides(endpoint: Any) -> None:
    a, _ = await endpoint(idle_timeout=0.1)
    b, inbox = await endpoint(idle_timeout=0.1)
    a.send(options().to_bytes(), b.local)
    await received(inbox)
    assert a.connections and b.connections
    await eventually(lambda: not a.connections and not b.connections)


async def test_close_ends_the_listener_and_every_connection(endpoint: Any, connect: Any) -> None:
    a, _ = await endpoint()
    b, inbox = await endpoint()
    a.send(options().to_bytes(), b.local)
    await received(inbox)
    reader, _ = await connect(b)
    await eventually(lambda: len(b.connections) == 2)
    b.close()
    assert await closed_by_peer(reader)
    await eventually(lambda: not a.connections and not b.connections)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(*b.local)
    b.send(options().to_bytes(), a.local)  # a closed transport sends nothing and opens nothing
    assert b.stats.sent == 0 and not b.connections


async def test_an_unreachable_peer_is_forgotten(endpoint: Any) -> None:
    a, _ = await endpoint()
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    a.send(options().to_bytes(), ("127.0.0.1", port))
    assert list(a.connections) == [("127.0.0.1", port)]
    await eventually(lambda: not a.connections)


@pytest.mark.parametrize("server_hostname", [None, "localhost"])
async def test_tls_round_trip_with_a_verified_self_signed_certificate(
        endpoint: Any, certificate: tuple[Path, Path], server_hostname: str | None) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))  # chain and host name are checked
    a, a_inbox = await endpoint(ssl_context=server_context(certificate), client_ssl=trusting,
                                server_hostname=server_hostname)
    b, b_inbox = await endpoint(answer=True, ssl_context=server_context(certificate))
    a.send(options(via="TLS").to_bytes(), b.local)
    request, _ = await received(b_inbox)
    response, _ = await received(a_inbox)
    assert isinstance(request, SipRequest) and isinstance(response, SipResponse) and response.status == 200
    assert list(a.connections) == [b.local]
    writer = a.connections[b.local].writer
    assert writer is not None and writer.get_extra_info("ssl_object") is not None


async def test_tls_peer_with_an_untrusted_certificate_gets_nothing(endpoint: Any,
                                                                   certificate: tuple[Path, Path]) -> None:
    a, _ = await endpoint(ssl_context=server_context(certificate))  # default client context: system CAs only
    b, inbox = await endpoint(ssl_context=server_context(certificate))
    a.send(options(via="TLS").to_bytes(), b.local)
    await eventually(lambda: not a.connections)
    await asyncio.sleep(0.05)
    assert inbox.empty() and a.stats.malformed == b.stats.malformed == 0


@pytest.mark.parametrize("ended_by", ["close", "idle timeout"])
async def test_a_connection_stuck_in_its_tls_handshake_is_given_up(endpoint: Any, certificate: tuple[Path, Path],
                                                                   ended_by: str) -> None:
    mute: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(lambda _, writer: mute.append(writer), "127.0.0.1", 0)  # no TLS answer
    peer = silent.sockets[0].getsockname()[:2]
    a, _ = await endpoint(ssl_context=server_context(certificate), idle_timeout=0.2)
    a.send(options(via="TLS").to_bytes(), peer)
    await eventually(lambda: bool(mute))
    connection = a.connections[peer]
    assert connection.writer is None and connection.pending  # still connecting, the request queued
    if ended_by == "close":
        a.close()
    await eventually(lambda: connection.task is not None and connection.task.done())
    assert not a.connections
    for writer in mute:
        writer.close()
    silent.close()


async def test_transaction_layer_over_tcp_completes_without_retransmissions(endpoint: Any) -> None:
    scale = 0.1  # over UDP Timer E would fire at 50, 150 and 350 ms before the late answer below

    def answer_late(txn: ServerTransaction | None, request: SipRequest, source: Address) -> None:
        assert txn is not None
        asyncio.get_running_loop().call_later(0.3, txn.respond, response_to(request, 200, "OK", new_tag()))

    client = TransactionLayer(lambda *_: None, time_scale=scale)
    server = TransactionLayer(answer_late, time_scale=scale)
    client_transport, _ = await endpoint(handler=client.receive)
    server_transport, _ = await endpoint(handler=server.receive)
    client.transport, server.transport = client_transport, server_transport
    txn = client.send_request(options(), server_transport.local)
    assert Event.TIMER_E not in txn.timers and Event.TIMER_F in txn.timers
    final = await asyncio.wait_for(txn.final, 2)
    assert final.status == 200
    assert client_transport.stats == server_transport.stats == TransportStats(received=1, sent=1)
    await eventually(lambda: client.live == 0 and server.live == 0)  # Timers K and J are zero on streams


MESSAGES = [options(1).to_bytes(), options(2, body=b"a\r\n\r\nb").to_bytes().replace(b"Content-Length:", b"l:"),
            (WIRE / "invite_compact_folded.sip").read_bytes()]


@given(st.lists(st.sampled_from(MESSAGES), min_size=1, max_size=5), st.data())
def test_framer_finds_the_same_messages_however_the_stream_is_cut(messages: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(messages)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=20)))
    framer, frames = StreamFramer(), []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        framer.feed(stream[start:end])
        while (frame := framer.next_frame()) is not None:
            frames.append(frame)
    assert frames == messages
