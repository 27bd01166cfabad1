"""Abuse limits on the SIP TCP/TLS listener, with real TLS sockets: a flood of connections from one source is
reset before any handshake past its limits and logged once with the source, while a phone from another source
still gets its answer; a source past its request rate has its connection closed; the limits themselves, pure."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.sip.dialog import new_tag
from dialer.sip.layer import response_to
from dialer.sip.message import SipRequest, SipResponse, parse
from dialer.sip.ratelimit import ConnectionLimit, SourceRateLimit
from dialer.sip import stream
from dialer.sip.stream import StreamTransport
from dialer.sip.transport import Address
from tests.dialer.conftest import server_context
from tests.dialer.sip.test_stream import options

ATTACKER, PHONE = "127.0.0.3", "127.0.0.1"
FLOOD = 60


def test_connections_are_limited_open_at_once_and_per_second_per_source() -> None:
    limit = ConnectionLimit(max_open=2, rate=1.0, burst=3, exempt=frozenset({"carrier"}))
    assert limit.admit("a", 0.0) is None and limit.admit("a", 0.0) is None
    assert limit.admit("a", 0.0) == "2 connection(s) already open"
    assert limit.newly_refused("a") and not limit.newly_refused("a")  # logged once per episode
    limit.release("a")
    assert limit.admit("a", 0.0) is None  # the burst's third: a slot was free again
    limit.release("a")
    assert limit.admit("a", 0.0) == "over 1 new connection(s)/s (burst 3)"
    assert limit.admit("a", 1.0) is None and "a" not in limit.refused  # a second later: one more, episode over
    assert limit.admit("b", 0.0) is None  # another source has its own allowance
    assert all(limit.admit("carrier", 0.0) is None for _ in range(50))
    for _ in range(2):
        limit.release("a")
    assert "a" not in limit.open and limit.open["b"] == 1


@pytest.fixture
async def listener(certificate: tuple[Path, Path]) -> AsyncIterator[StreamTransport]:
    """A TLS listener answering 200 to each request, with small limits: 3 connections per source open at
    once and a burst of 3 then 1 a second; 20 requests at once then 5 a second."""
    transport: StreamTransport

    def answer(message: SipRequest | SipResponse, source: Address) -> None:
        if isinstance(message, SipRequest):
            transport.send(response_to(message, 200, "OK", new_tag()).to_bytes(), source)

    transport = await StreamTransport.bind(PHONE, 0, answer, ssl_context=server_context(certificate),
                                           limit=SourceRateLimit(5.0, 20),
                                           connection_limit=ConnectionLimit(3, 1.0, 3))
    yield transport
    transport.close()
    await asyncio.sleep(0.01)


async def tls_connect(transport: StreamTransport, trusting: ssl.SSLContext,
                      source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(*transport.local, ssl=trusting, local_addr=(source, 0),
                                                          server_hostname="localhost"), 5)


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> SipResponse:
    writer.write(options(via="TLS").to_bytes())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    response = parse(head, stream=True)
    assert isinstance(response, SipResponse)
    return response


async def test_a_connection_flood_is_reset_before_its_handshake_while_another_source_is_answered(
        listener: StreamTransport, certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    with caplog.at_level(logging.WARNING, logger="dialer.sip.stream"):
        tries = await asyncio.gather(*(tls_connect(listener, trusting, ATTACKER) for _ in range(FLOOD)),
                                     return_exceptions=True)
        held = [result for result in tries if not isinstance(result, BaseException)]
        failed = [result for result in tries if isinstance(result, BaseException)]
        assert len(held) == 3 and all(isinstance(error, OSError) for error in failed), failed[:3]
        assert listener.stats.refused == FLOOD - 3

        reader, writer = await tls_connect(listener, trusting, PHONE)  # the phone, from another source
        assert (await ask(reader, writer)).status == 200
        writer.close()
    warned = [record.getMessage() for record in caplog.records if ATTACKER in record.getMessage()]
    assert len(warned) == 1 and "refused" in warned[0], warned  # with the source, once
    for _, attacker in held:
        attacker.close()
    await asyncio.sleep(0.1)
    assert listener.connection_limit is not None and ATTACKER not in listener.connection_limit.open


async def test_a_source_past_its_request_rate_has_its_connection_closed(
        listener: StreamTransport, certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    reader, writer = await tls_connect(listener, trusting, ATTACKER)
    with caplog.at_level(logging.WARNING, logger="dialer.sip.stream"):
        writer.write(b"".join(options(cseq=n, via="TLS").to_bytes() for n in range(200)))
        answered = 0
        try:
            while await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5):
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionResetError, ssl.SSLError):
            pass  # closed by the listener
    assert answered == 20 and listener.stats.limited == 1  # the burst, then the connection went
    assert not listener.connections
    warned = [record.getMessage() for record in caplog.records if ATTACKER in record.getMessage()]
    assert len(warned) == 1 and "closed: over 5.0 requests/s" in warned[0]
    writer.close()

    reader, writer = await tls_connect(listener, trusting, PHONE)  # another source is still served
    assert (await ask(reader, writer)).status == 200
    writer.close()


async def test_a_connection_that_never_finishes_its_handshake_is_dropped_and_frees_its_place(
        listener: StreamTransport, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "HANDSHAKE_TIMEOUT_S", 0.2)
    reader, writer = await asyncio.open_connection(*listener.local, local_addr=(ATTACKER, 0))  # says nothing
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the listener
    writer.close()
    assert listener.connection_limit is not None and ATTACKER not in listener.connection_limit.open
    assert not listener.connections
