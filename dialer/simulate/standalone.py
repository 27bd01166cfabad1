"""The PSTN simulator and a floor of agent bots as processes of their own (`dunline simulate pstn|agents`).

`dunline serve` is then measured as it runs in production: its trunk is a carrier on another port, its
agents' phones register from another process with their own SIP passwords, and each agent says "ready" over
the agent-state API as an agent's desktop does. Both run until `stop` is set (the CLI sets it on SIGINT or
SIGTERM) and close their calls on the way out. Nothing here is new behaviour: `PstnSimulator` and `AgentBot`
are used as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator
from dialer.sip.transport import Address

log = logging.getLogger(__name__)
FORGET_EVERY_S = 10.0  # a long run drops the records of ended calls, so the simulator's memory stays flat
READY_WITHIN_S = 30.0
READY_POLL_S = 0.5


@dataclass
class PstnTally:
    received: int = 0
    answered: int = 0


async def run_pstn(*, host: str = "127.0.0.1", port: int, seed: int, mix: Mapping[Persona, float],
                   ring_s: tuple[float, float], talk_s: tuple[float, float], stop: asyncio.Event,
                   on_ready: Callable[[Address], None] = lambda address: None) -> PstnTally:
    """The carrier and every debtor behind it on `port` until `stop`; what it received and answered. A person
    answers with a short hello (as the simulated floor's do), which answering-machine detection hears as one."""
    pstn = PstnSimulator(mix=dict(mix), seed=seed, host=host, port=port, ring_s=ring_s, talk_s=talk_s,
                         greeting_voice=VOICES / "debtor-hello.wav")
    tally = PstnTally()
    await pstn.start()
    on_ready(pstn.address)
    try:
        while not stop.is_set():
            await _wait(stop, FORGET_EVERY_S)
            _forget_ended(pstn, tally)
    finally:
        _forget_ended(pstn, tally)
        tally.received += len(pstn.calls)
        tally.answered += sum(1 for call in pstn.calls if call.answered)
        pstn.close()
    return tally


def _forget_ended(pstn: PstnSimulator, tally: PstnTally) -> None:
    """Count and drop answered calls that are over: they hold a media session each. Unanswered records are
    a few fields and may still be ringing, so they stay."""
    over = [call for call in pstn.calls if call.leg is not None and call.leg.ended.is_set()]
    tally.received += len(over)
    tally.answered += len(over)
    pstn.calls[:] = [call for call in pstn.calls if call.leg is None or not call.leg.ended.is_set()]


async def run_agents(*, names: list[str], password_of: Callable[[str], str], registrar: Address,
                     apis: Sequence[str], tokens: Mapping[str, str], stop: asyncio.Event,
                     on_ready: Callable[[int], None] = lambda ready: None) -> int:
    """One registered bot per name, each made ready with its own token over one of `apis` (a cluster's nodes:
    the nth agent on the nth API, round robin, so each node holds an even share); runs until `stop`.
    Returns how many agents the desks reported ready."""
    bots = [AgentBot(name, password_of(name), registrar) for name in names]
    try:
        for bot in bots:
            if not await bot.start():
                raise RuntimeError(f"agent bot {bot.user} could not register with {registrar[0]}:{registrar[1]}")
        async with aiohttp.ClientSession() as session:
            ready = await _make_ready(session, {name: apis[n % len(apis)] for n, name in enumerate(names)},
                                         tokens)
        on_ready(ready)
        await stop.wait()
        return ready
    finally:
        for bot in bots:
            await bot.close()


async def _make_ready(session: aiohttp.ClientSession, api_of: Mapping[str, str], tokens: Mapping[str, str]) -> int:
    """Say "ready" for each agent on their API until the desk says so (the leg to its phone comes up in between)."""
    waiting = set(api_of)
    deadline = asyncio.get_running_loop().time() + READY_WITHIN_S
    while waiting and asyncio.get_running_loop().time() < deadline:
        for name in sorted(waiting):
            async with session.post(f"{api_of[name]}/api/agents/{name}/state", json={"state": "ready"},
                                    headers={"Authorization": f"Bearer {tokens[name]}"}) as response:
                if response.status != 200:
                    raise RuntimeError(f"{name}: the agent-state API answered {response.status}")
                if (await response.json())["state"] == "ready":
                    waiting.discard(name)
        if waiting:
            await asyncio.sleep(READY_POLL_S)
    if waiting:
        log.warning("%d of %d agents not ready within %.0f s", len(waiting), len(api_of), READY_WITHIN_S)
    return len(api_of) - len(waiting)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):  # the time ran out: the caller goes on as if asked to stop
        await asyncio.wait_for(event.wait(), seconds)
