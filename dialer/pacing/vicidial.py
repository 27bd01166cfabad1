"""A re-implementation of VICIdial's adaptive predictive dialing, for side-by-side simulation.

From VICIdial's AST_VDadapt.pl and AST_VDauto_dial.pl (v2.14), read as documented behaviour:
- every 1 s sample ready agents R, logged-in agents T (paused included) and answered calls waiting W;
- every 15 samples: m = (mean R - mean W) / mean T, level = round3(level * (1 + m)), capped at 3.0, floored
  at 1.0; then the drop brakes: more than 20 calls in the last minute with over 50% of them dropped halves
  the level; more than 50 calls today with today's drop rate (drops / answers) over the limit sets the
  level to 1.0 (ADAPT_HARD_LIMIT) or multiplies it by min(1, (2100 - HHMM) / 1000) (ADAPT_TAPERED);
  drop statistics are refreshed every 60 samples;
- every 2.5 s place round(level * (ready + in-call agents)) minus calls in progress (ringing, waiting, or
  with an agent).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field

from dialer.pacing.view import PacingView

SAMPLE_EVERY_S = 1.0
ADAPT_EVERY_SAMPLES = 15
DROP_STATS_EVERY_SAMPLES = 60
DIAL_EVERY_S = 2.5
MAX_LEVEL = 3.0
MIN_LEVEL = 1.0
LATEST_SERVER_TIME = 2100


@dataclass
class VicidialPacer:
    mode: str = "hard_limit"  # or "tapered"
    drop_limit: float = 0.03
    shift_start_hhmm: int = 900
    level: float = 1.0
    name: str = field(init=False)
    _samples: deque[tuple[int, int, int]] = field(default_factory=lambda: deque(maxlen=ADAPT_EVERY_SAMPLES))
    _sample_count: int = 0
    _next_sample: float = 0.0
    _next_dial: float = 0.0
    _calls: list[float] = field(default_factory=list)  # dial times
    _drops: list[float] = field(default_factory=list)
    _answers: int = 0
    _today_rate: float = 0.0
    _today_calls: int = 0
    _minute: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        if self.mode not in ("hard_limit", "tapered"):
            raise ValueError("mode is hard_limit or tapered")
        self.name = f"vicidial_{self.mode}"

    # Observations -------------------------------------------------------------------------------------------
    def on_resolved(self, ring_seconds: float, live: bool) -> None:
        self._answers += live

    def on_talk_ended(self, talk_seconds: float) -> None:
        """VICIdial's adaptive method does not look at talk times."""

    def on_abandoned(self, at: float) -> None:
        self._drops.append(at)

    # Decision -------------------------------------------------------------------------------------------------
    def _hhmm(self, now: float) -> int:
        minutes = (self.shift_start_hhmm // 100) * 60 + self.shift_start_hhmm % 100 + int(now // 60)
        return (minutes // 60 % 24) * 100 + minutes % 60

    def _adapt(self, view: PacingView) -> None:
        while view.now >= self._next_sample:
            self._next_sample += SAMPLE_EVERY_S
            self._sample_count += 1
            logged_in = view.agents.staffed + view.agents.paused
            self._samples.append((view.agents.ready, view.waiting, logged_in))
            if self._sample_count % DROP_STATS_EVERY_SAMPLES == 1:
                minute_ago = view.now - 60
                self._minute = (len(self._calls) - bisect_right(self._calls, minute_ago),
                                len(self._drops) - bisect_right(self._drops, minute_ago))
                self._today_calls = len(self._calls)
                self._today_rate = len(self._drops) / max(1, self._answers)
            if self._sample_count % ADAPT_EVERY_SAMPLES:
                continue
            ready = sum(s[0] for s in self._samples) / len(self._samples)
            waiting = sum(s[1] for s in self._samples) / len(self._samples)
            agents = sum(s[2] for s in self._samples) / len(self._samples)
            if agents <= 0:
                continue
            relative = (ready - waiting) / agents
            level = min(MAX_LEVEL, round(self.level * (1 + relative), 3))
            calls_minute, drops_minute = self._minute
            if calls_minute > 20 and drops_minute / calls_minute > 0.5:
                level /= 2
            if self._today_calls > 50 and self._today_rate > self.drop_limit:
                if self.mode == "hard_limit":
                    level = 1.0
                else:
                    left = LATEST_SERVER_TIME - self._hhmm(view.now)
                    level = 1.0 if left < 0 else level * min(1.0, left / 1000)
            self.level = max(MIN_LEVEL, level)

    def lines_to_dial(self, view: PacingView) -> int:
        self._adapt(view)
        if view.now < self._next_dial:
            return 0
        while self._next_dial <= view.now:
            self._next_dial += DIAL_EVERY_S
        counted = view.agents.ready + view.agents.reserved + len(view.agents.on_call_elapsed)
        in_progress = len(view.ringing_elapsed) + view.waiting + len(view.agents.on_call_elapsed)
        calls = max(0, round(self.level * counted) - in_progress)
        self._calls.extend([view.now] * calls)
        return calls
