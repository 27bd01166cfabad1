"""Abuse limits on the switchboard's SIP-over-TLS listener against real peers: a flood of TLS connections from one
source (Python ssl sockets) is reset past its connection limit and logged once with the source, while baresip
from another source registers over TLS all the same."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from pathlib import Path

import pytest

from dialer.sip.ratelimit import ConnectionLimit, SourceRateLimit
from dialer.switchboard import Switchboard
from dunline.exposure import server_tls_context
from tests.conftest import require
from tests.dunline.test_https import self_signed
from tests.integration.peers import free_port
from tests.integration.test_phones import AGENT_SPEECH, until
from tests.integration.test_tls_srtp import TlsBaresip

ATTACKER = "127.0.0.3"
FLOOD = 300


async def test_a_tls_connection_flood_is_refused_while_baresip_registers_from_another_source(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    require("baresip")
    cert, key = self_signed(tmp_path)
    board = Switchboard(password_of={"agent1": "pw-1"}.get, recordings=tmp_path / "recordings",
                        tls=server_tls_context(cert, key), tls_port=free_port(socket.SOCK_STREAM),
                        rate_limit=SourceRateLimit(20.0, 40), connection_limit=ConnectionLimit(4, 1.0, 4))
    await board.start()
    assert board.tls_ua is not None
    tls_address = (board.tls_ua.host, board.tls_ua.port)
    trusting = ssl.create_default_context(cafile=str(cert))
    held: list[asyncio.StreamWriter] = []
    errors: list[OSError] = []

    async def attack() -> None:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(
                *tls_address, ssl=trusting, local_addr=(ATTACKER, 0)), 10)
            held.append(writer)
        except OSError as error:
            errors.append(error)  # reset by the listener

    try:
        with caplog.at_level(logging.WARNING, logger="dialer.sip.stream"):
            flood = asyncio.ensure_future(asyncio.gather(*(attack() for _ in range(FLOOD))))
            async with TlsBaresip(tmp_path / "baresip", "agent1", "pw-1", tls_address, AGENT_SPEECH,
                                  cert) as softphone:
                await flood
                await until(lambda: board.registered("agent1") is not None, timeout=10,
                            message=lambda: "\n".join(softphone.lines[-30:]))
                target = board.registered("agent1")
                assert target is not None and target.transport == "TLS"
                await softphone.quit()
        stats = board.tls_ua.transport.stats  # type: ignore[attr-defined]
        assert len(held) == 4 and stats.refused == FLOOD - 4, (len(held), stats, {repr(e) for e in errors})
        warned = [r.getMessage() for r in caplog.records if ATTACKER in r.getMessage()]
        assert len(warned) == 1 and "connections from 127.0.0.3 refused" in warned[0], warned
    finally:
        for writer in held:
            writer.close()
        await board.close()
