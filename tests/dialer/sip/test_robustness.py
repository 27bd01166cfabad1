"""Malformed SIP over a real UDP socket never takes the endpoint down nor leaves transactions behind."""

import asyncio
import random
import socket
from pathlib import Path

import pytest

from dialer.sip.message import parse
from dialer.sip.uac import UserAgent
from tests.dialer.sip.test_message import amplifying_invite

WIRE = Path(__file__).parent / "wire"


async def test_garbage_and_torture_datagrams_are_survived() -> None:
    agent = UserAgent(time_scale=0.01)
    await agent.start()
    rng = random.Random(11)
    good = (WIRE / "invite_compact_folded.sip").read_bytes()
    junk = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1500))) for _ in range(300)]
    junk += [good[: rng.randrange(len(good))] for _ in range(100)]
    junk += [path.read_bytes() for path in WIRE.glob("*.sip")]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender.setblocking(False)
    try:
        for n, datagram in enumerate(junk):
            sender.sendto(datagram, (agent.host, agent.port))
            if n % 20 == 0:
                await asyncio.sleep(0.005)  # let the endpoint read: a burst would only overflow the socket buffer
        await asyncio.sleep(0.3)
        assert agent.transport is not None and agent.transport.stats.malformed >= 300
        probe = good.replace(b"INVITE sip:", b"OPTIONS sip:", 1).replace(b"314159 INVITE", b"1 OPTIONS")
        sender.sendto(probe, (agent.host, agent.port))
        loop = asyncio.get_running_loop()
        reply = await asyncio.wait_for(loop.sock_recv(sender, 65535), 2)
        while b"CSeq: 1 OPTIONS" not in reply:  # skip replies to the valid INVITE among the torture files
            reply = await asyncio.wait_for(loop.sock_recv(sender, 65535), 2)
        assert parse(reply).status == 200  # alive, and answering the OPTIONS probe
        await asyncio.sleep(64 * 0.5 * 0.01 + 0.3)
        assert agent.layer.live == 0  # every server transaction (the torture INVITE too) has ended
    finally:
        sender.close()
        agent.close()


async def test_torture_calls_to_an_answering_endpoint_leave_no_dialog_or_transaction_behind() -> None:
    """Here the endpoint answers every INVITE it can make a dialog of. The torture sender never ACKs, so
    each answered call is retransmitted, given up (BYE), and forgotten: nothing outlives its timers."""
    answered: list[str] = []

    async def answer(call) -> None:  # type: ignore[no-untyped-def]
        if agent.invites.answer(call, b""):
            answered.append(call.call_id)

    agent = UserAgent(time_scale=0.01, on_incoming=answer)
    await agent.start()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender.setblocking(False)
    replies: list[bytes] = []
    loop = asyncio.get_running_loop()

    async def drain() -> None:
        while True:
            replies.append(await loop.sock_recv(sender, 65535))

    reader = asyncio.ensure_future(drain())
    try:
        for path in sorted(WIRE.glob("*.sip")):
            sender.sendto(path.read_bytes(), (agent.host, agent.port))
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        assert answered  # the well-formed INVITEs among them were answered
        statuses = {parse(reply).status for reply in replies if reply.startswith(b"SIP/2.0")}
        assert statuses >= {200, 481, 501} and statuses <= {100, 200, 400, 481, 482, 487, 501}
        deadline = loop.time() + 5
        while (agent.calls or agent.layer.live) and loop.time() < deadline:
            await asyncio.sleep(0.1)
        assert agent.calls == {} and agent.layer.live == 0
    finally:
        reader.cancel()
        sender.close()
        agent.close()


@pytest.mark.parametrize("vias, one_line", [(1001, True), (200, False)])
async def test_probe_9_many_via_invite_is_not_reflected_larger_than_it_came(vias: int, one_line: bool) -> None:
    """The probe: one INVITE with 1,001 Vias (one header line) drew 12 replies, 13.6 times its size. Listen
    through every retransmission the server would make (Timer G up to Timer H, 64*T1) and count."""
    agent = UserAgent(time_scale=0.02)
    await agent.start()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender.setblocking(False)
    loop = asyncio.get_running_loop()
    request = amplifying_invite(vias, one_line=one_line)
    replies: list[bytes] = []
    try:
        sender.sendto(request, (agent.host, agent.port))
        deadline = loop.time() + 64 * 0.5 * 0.02 + 0.5
        while (left := deadline - loop.time()) > 0:
            try:
                replies.append(await asyncio.wait_for(loop.sock_recv(sender, 65535), left))
            except asyncio.TimeoutError:
                break
        assert sum(map(len, replies)) <= len(request), f"{len(replies)} replies, {sum(map(len, replies))} bytes"
        assert len(replies) <= 1
        assert agent.layer.live == 0
    finally:
        sender.close()
        agent.close()
