"""A re-implementation of VICIdial's adaptive predictive dialing, for side-by-side simulation.

Re-derived (issue 21) from VICIdial's own scripts, read in the public mirror github.com/inktel/Vicidial at
commit 1278c1cacf738bc447e35bbb7c4fa1dae9d05013: `bin/AST_VDadapt.pl` v2.4 (sets the dial level) and
`bin/AST_VDauto_dial.pl` v2.4 (places the calls). Each constant and rule below cites the line it comes from
("adapt:N" and "autodial:N"); the campaign settings take the defaults of `bin/MySQL_AST_CREATE_tables.sql`
(lines 671-675: adaptive_dropped_percentage 3, adaptive_maximum_level 3.0, adaptive_latest_server_time 2100,
adaptive_intensity 0, adaptive_dl_diff_target 0). The re-derivation found the rules as before; what changed
is that each rule is now a function of its own, tested against the cited behaviour.

What the two methods do, in short: every second sample ready agents, answered calls waiting and logged-in
agents; every 15 s move the level by the averaged (ready - waiting) / logged-in; a minute with more than 20
calls and over half of them dropped halves it; once today's drops exceed the limit (of answers, with more
than 50 calls today), ADAPT_HARD_LIMIT sets the level to 1.0 (one line per agent: progressive dialing) and
ADAPT_TAPERED multiplies it by the share of 1000 "HHMM units" left before the latest server time (no brake
at all while more than 1000 are left, i.e. before 11:00 with the default 21:00). VICIdial thus tolerates
an early-day overshoot with TAPERED on purpose, and with HARD_LIMIT hovers just above the limit (the brake
acts only once the limit is passed, on statistics a minute old), dialing progressively in between.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field

from dialer.pacing.view import PacingView

SAMPLE_EVERY_S = 1.0  # adapt:208 the loop delay $CLIdelay defaults to 1 s (adapt:562 usleep per loop)
ADAPT_EVERY_SAMPLES = 15  # adapt:472 calculate_dial_level when $diff_ratio_updater >= 15 (s)
AVERAGE_SAMPLES = 15  # adapt:707 $stat_it = 15: the differential averages the last 15 samples
DROP_STATS_EVERY_SAMPLES = 60  # adapt:466 calculate_drops when $drop_count_updater >= 60; adapt:91 starts at 61
DROP_WINDOW_S = 60.0  # adapt:669 $VDL_one = now - 60 s: the short drop window (adapt:885, 895)
MINUTE_CALLS_OVER = 20  # adapt:1773 more than 20 calls in the last minute...
MINUTE_DROP_SHARE_OVER = 0.5  # adapt:1773 ...and drops over 50% of those calls (not of answers) halve it
TODAY_CALLS_OVER = 50  # adapt:1778 the daily limit applies with more than 50 calls today (adapt:635, 903)
DIAL_EVERY_S = 2.5  # autodial:154 $loop_delay = 2500 ms
MAX_LEVEL = 3.0  # adapt:1754 capped at adaptive_maximum_level (default 3.0)
MIN_LEVEL = 1.0  # adapt:1759 and adapt:1826 never below 1.0
LATEST_SERVER_TIME = 2100  # adapt:1729 adaptive_latest_server_time (default 2100)
TAPER_SPAN = 1000  # adapt:1730-1733 tapered rate = HHMM left / 1000, 1 when more than 1000 are left


def adapted_level(level: float, ready: float, waiting: float, logged_in: float) -> float:
    """The level the differential suggests (adapt:779, 1696, 1724) with intensity 0 (adapt:1707-1716 then
    multiply by 1), rounded to 3 decimals, capped (adapt:1754) and floored (adapt:1759)."""
    if logged_in <= 0:
        return level
    suggested = round(level * (1 + (ready - waiting) / logged_in), 3)
    return max(MIN_LEVEL, min(MAX_LEVEL, suggested))


def taper_rate(hhmm: int, latest: int = LATEST_SERVER_TIME) -> float:
    """adapt:1729-1733: the HHMM difference (not minutes: 21:00 - 14:30 is 670), over 1000, at most 1."""
    left = latest - hhmm
    return 1.0 if left > TAPER_SPAN else left / TAPER_SPAN


def braked_level(level: float, mode: str, *, minute_calls: int, minute_drops: int, today_calls: int,
                 today_drop_rate: float, drop_limit: float, hhmm: int) -> float:
    """The drop rules (adapt:1773-1800) applied to a suggested level, then the floor (adapt:1826)."""
    if minute_calls > MINUTE_CALLS_OVER and minute_drops / minute_calls > MINUTE_DROP_SHARE_OVER:
        level /= 2
    if today_calls > TODAY_CALLS_OVER and today_drop_rate > drop_limit:
        if mode == "hard_limit":  # adapt:1780-1784
            level = 1.0
        else:  # adapt:1790-1800: past the latest server time 1.0, else tapered
            rate = taper_rate(hhmm)
            level = 1.0 if rate < 0 else level * rate
    return max(MIN_LEVEL, level)


@dataclass
class VicidialPacer:
    mode: str = "hard_limit"  # or "tapered"
    drop_limit: float = 0.03  # adaptive_dropped_percentage, of answers (adapt:941, 1778)
    shift_start_hhmm: int = 900
    level: float = 1.0
    name: str = field(init=False)
    _samples: deque[tuple[int, int, int]] = field(default_factory=lambda: deque(maxlen=AVERAGE_SAMPLES))
    _sample_count: int = 0
    _next_sample: float = 0.0
    _next_dial: float = 0.0
    _calls: list[float] = field(default_factory=list)  # dial times (vicidial_log call_date, adapt:903)
    _drops: list[float] = field(default_factory=list)
    _answers: int = 0  # human-answered statuses, drops included (adapt:916)
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

    def _refresh_drop_stats(self, now: float) -> None:
        minute_ago = now - DROP_WINDOW_S
        self._minute = (len(self._calls) - bisect_right(self._calls, minute_ago),
                        len(self._drops) - bisect_right(self._drops, minute_ago))
        self._today_calls = len(self._calls)
        self._today_rate = len(self._drops) / max(1, self._answers)

    def _adapt(self, view: PacingView) -> None:
        while view.now >= self._next_sample:
            self._next_sample += SAMPLE_EVERY_S
            self._sample_count += 1
            # adapt:730 ready = READY|DONE agents, adapt:735 waiting = LIVE calls, total = every status.
            self._samples.append((view.agents.ready, view.waiting, view.agents.staffed + view.agents.paused))
            if self._sample_count % DROP_STATS_EVERY_SAMPLES == 1:
                self._refresh_drop_stats(view.now)
            if self._sample_count % ADAPT_EVERY_SAMPLES:
                continue
            count = len(self._samples)
            ready, waiting, agents = (sum(s[k] for s in self._samples) / count for k in range(3))
            if agents <= 0:
                continue
            calls_minute, drops_minute = self._minute
            self.level = braked_level(
                adapted_level(self.level, ready, waiting, agents), self.mode, minute_calls=calls_minute,
                minute_drops=drops_minute, today_calls=self._today_calls, today_drop_rate=self._today_rate,
                drop_limit=self.drop_limit, hhmm=self._hhmm(view.now))

    def lines_to_dial(self, view: PacingView) -> int:
        self._adapt(view)
        if view.now < self._next_dial:
            return 0
        while self._next_dial <= view.now:
            self._next_dial += DIAL_EVERY_S
        # autodial:356 agents counted: READY, QUEUE, INCALL, DONE; autodial:667, 686 goal = round(level x
        # agents); autodial:742, 767 minus calls SENT, RINGING, LIVE, XFER or CLOSER (with an agent included).
        counted = view.agents.ready + view.agents.reserved + len(view.agents.on_call_elapsed)
        in_progress = len(view.ringing_elapsed) + view.waiting + len(view.agents.on_call_elapsed)
        calls = max(0, round(self.level * counted) - in_progress)
        self._calls.extend([view.now] * calls)
        return calls
