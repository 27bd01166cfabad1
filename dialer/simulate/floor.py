"""A call floor on loopback, for `make demo` and smoke tests: real SIP and RTP end to end.

Agent bots register to the switchboard and get their nailed-up legs; debtor calls go out through the
PSTN simulator (a seeded mix of people, machines, busy, no answer, bad numbers); each answered call is
bridged to an idle agent at once, or abandoned when none is free; every answered call is recorded.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dialer.agent_leg import LegState
from dialer.leg import CallLeg
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import Persona, PstnSimulator
from dialer.switchboard import Switchboard, Trunk

DEFAULT_MIX = {Persona.PERSON: 0.5, Persona.MACHINE: 0.1, Persona.BUSY: 0.15, Persona.NO_ANSWER: 0.1,
               Persona.INVALID: 0.05, Persona.REJECT: 0.05, Persona.SILENCE: 0.05}


@dataclass
class FloorReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    bridged: int = 0
    abandoned: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)
    recorded_seconds: float = 0.0

    @property
    def latency_p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def latency_max_ms(self) -> float:
        return max(self.latencies_ms, default=0.0)


@asynccontextmanager
async def simulated_floor(pstn: PstnSimulator, speeches: Sequence[np.ndarray | None], *, recordings: Path | None,
                          ring_timeout_s: float) -> AsyncIterator[Switchboard]:
    """The PSTN simulator as trunk, and one agent bot per entry of `speeches` (None: the bot's own voice),
    registered and logged in with its nailed-up leg up; everything is closed on the way out."""
    await pstn.start()
    passwords = {f"agent{n}": secrets.token_hex(8) for n in range(1, len(speeches) + 1)}
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=ring_timeout_s, keepalive_s=0),
                        password_of=passwords.get, recordings=recordings)
    await board.start()
    bots = [AgentBot(user, password, board.address, **({"speech": speech} if speech is not None else {}))
            for (user, password), speech in zip(passwords.items(), speeches)]
    try:
        for bot in bots:
            if not await bot.start():
                raise RuntimeError(f"agent bot {bot.user} could not register")
            board.login(bot.user)
        await asyncio.wait_for(asyncio.gather(*(leg.up.wait() for leg in board.agents.values())), 15)
        yield board
    finally:
        for bot in bots:
            await bot.close()
        await board.close()
        pstn.close()


async def run_floor(calls: int, agents: int, recordings: Path, *, seed: int = 1, calls_per_second: float = 10.0,
                    lines_per_agent: int = 2, ring_timeout_s: float = 15.0,
                    mix: dict[Persona, float] | None = None) -> FloorReport:
    """Power dialing: at most `lines_per_agent` calls in flight per agent, placed at `calls_per_second`."""
    report = FloorReport()
    pstn = PstnSimulator(mix=mix or DEFAULT_MIX, seed=seed)
    async with simulated_floor(pstn, [None] * agents, recordings=recordings, ring_timeout_s=ring_timeout_s) as board:
        lines = asyncio.Semaphore(agents * lines_per_agent)

        async def one(n: int) -> None:
            async with lines:
                debtor = await board.call_debtor(f"+86138{n:08d}", ring_timeout=ring_timeout_s)
                report.outcomes[str(debtor.result)] += 1
                if debtor.answered:
                    await _connect_or_abandon(board, debtor, report)

        tasks = []
        for n in range(calls):
            await lines.acquire()  # wait for a free line before placing the next call
            lines.release()
            tasks.append(asyncio.ensure_future(one(n)))
            await asyncio.sleep(1 / calls_per_second)
        await asyncio.gather(*tasks)
    report.recordings = sorted(recordings.glob("*.wav"))
    return report


async def _connect_or_abandon(board: Switchboard, debtor: CallLeg, report: FloorReport) -> None:
    idle = [leg for leg in board.agents.values() if leg.state is LegState.IDLE]
    if not idle:
        report.abandoned += 1
        await board.ua.hang_up(debtor.call)
        return
    connection = board.connect(debtor, idle[0])
    report.bridged += 1
    report.latencies_ms.append(1000 * connection.latency_s)
    await connection.ended.wait()
    await asyncio.sleep(0)
    if debtor.media.recorder is not None:
        report.recorded_seconds += debtor.media.recorder.seconds
