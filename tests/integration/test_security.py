"""Abuse limits on the SIP side (issue 17) against real peers: a stranger's INVITE towards a PSTN number (SIPp)
is refused 403 and never reaches the trunk (the PSTN simulator); a flood from one source is dropped while
another source's phone still registers."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer import leg as legs
from dialer.leg import CallLeg
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import PstnSimulator
from dialer.sip.ratelimit import SourceRateLimit
from dialer.switchboard import Switchboard, Trunk
from tests.integration.peers import free_port

SCENARIOS = Path(__file__).parent / "sipp"
FLOOD = 2000
OPTIONS = ("OPTIONS sip:dunline@{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.3:{me};branch=z9hG4bK{n}\r\n"
           "From: <sip:flood@127.0.0.3>;tag={n}\r\nTo: <sip:dunline@{host}>\r\nCall-ID: flood-{n}\r\n"
           "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
async def floor(tmp_path: Path) -> AsyncIterator[tuple[PstnSimulator, Switchboard, list[str]]]:
    """A switchboard whose trunk is the PSTN simulator, taking inbound calls (the callers' numbers land in the
    list), with a small rate limit per source."""
    pstn = PstnSimulator()
    await pstn.start()
    answered: list[str] = []

    async def inbound(leg: CallLeg, caller: str) -> None:
        answered.append(caller)
        await board.ua.hang_up(leg.call)
    board = Switchboard(trunk=Trunk(*pstn.address, keepalive_s=0), recordings=tmp_path / "rec", inbound=inbound,
                        password_of={"agent1": "a-good-password"}.get, rate_limit=SourceRateLimit(20.0, 40))
    await board.start()
    yield pstn, board, answered
    await board.close()
    pstn.close()


@pytest.mark.usefixtures("sipp_installed")
async def test_a_strangers_invite_is_refused_403_and_never_reaches_the_trunk(
        floor: tuple[PstnSimulator, Switchboard, list[str]], caplog: pytest.LogCaptureFixture) -> None:
    pstn, board, answered = floor
    port = free_port()
    sipp = await asyncio.create_subprocess_exec(
        "sipp", f"{board.ua.host}:{board.ua.port}", "-sf", str(SCENARIOS / "stranger_invite.xml"), "-i", "127.0.0.1",
        "-p", str(port), "-m", "1", "-nostdin", "-timeout", "20s", stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    with caplog.at_level(logging.WARNING, logger="dialer.switchboard"):
        assert await asyncio.wait_for(sipp.wait(), 30) == 0, (await sipp.stderr.read()).decode()[-600:]  # got 403
    await asyncio.sleep(0.5)
    assert pstn.calls == [] and answered == []  # the trunk saw no INVITE; nothing answered the stranger
    assert f"INVITE from 127.0.0.1:{port} refused 403" in caplog.text

    caller = await legs.dial(pstn.ua, pstn.clock, f"sip:dunline@{board.ua.host}:{board.ua.port}", board.address,
                             caller_id="+14155559999")  # the carrier itself still gets through
    assert caller.answered and answered == ["+14155559999"]


async def test_a_flood_from_one_source_is_dropped_while_another_phone_registers(
        floor: tuple[PstnSimulator, Switchboard, list[str]], caplog: pytest.LogCaptureFixture) -> None:
    _, board, _ = floor
    flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flooder.bind(("127.0.0.3", 0))
    flooder.setblocking(False)
    me = flooder.getsockname()[1]
    bot = AgentBot("agent1", "a-good-password", board.address)
    try:
        with caplog.at_level(logging.WARNING, logger="dialer.sip.transport"):
            for n in range(FLOOD):
                flooder.sendto(OPTIONS.format(host=board.ua.host, port=board.ua.port, me=me, n=n).encode(),
                               board.address)
            registering = asyncio.ensure_future(bot.start())
            for n in range(FLOOD, 2 * FLOOD):  # still flooding while the phone registers
                flooder.sendto(OPTIONS.format(host=board.ua.host, port=board.ua.port, me=me, n=n).encode(),
                               board.address)
                if n % 100 == 0:
                    await asyncio.sleep(0)
            assert await asyncio.wait_for(registering, 10), "the phone from another source could not register"
            await asyncio.sleep(0.3)
        answers = 0
        while True:
            try:
                flooder.recv(65536)
                answers += 1
            except BlockingIOError:
                break
        assert board.registered("agent1") is not None
        stats = board.ua.transport.stats  # type: ignore[attr-defined]
        # what got past the limit, from every source: the burst (40) and 20/s, whatever the kernel dropped
        assert stats.limited > 0 and stats.received - stats.limited <= 200 and answers <= 200, (stats, answers)
        warned = [r for r in caplog.records if "127.0.0.3" in r.getMessage()]
        assert len(warned) == 1 and "dropped" in warned[0].getMessage()  # logged with the source, once
    finally:
        flooder.close()
        await bot.close()
