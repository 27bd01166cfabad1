"""The oracle that bench/pacing.py compares Dunline's pacer with: the best fixed lines-per-idle-agent ratio.

For each standard cell (team size x live-answer rate) the oracle keeps a fixed number of lines ringing per idle
agent, the fraction rounded at random (a ratio of 1.5 with one idle agent rings 1 or 2 lines, 1.5 on average;
VICIdial's RATIO, which rounds down, would ring 1). Its ratio is chosen knowing the outcome on every seed, under
two criteria: the highest ratio, to a step of `--step`, whose worst seed keeps the abandon rate at or under 3%
(the bar Dunline's pacer is held to), and the highest whose mean over the seeds does (a laxer bar). For each it
reports that ratio's mean and worst-seed occupancy (of all the ratios measured for the cell that meet the bar,
the one with the highest mean occupancy). Abandons grow with the ratio, so each ratio is found by bisection
between one line per idle agent and 2.5 / answer rate; the two steps above the bisection's answer are measured
too (the first is its failing upper end), because seeds make the boundary ragged. The same simulator and seeds as bench/pacing.py, so both
count occupancy the same way.

    python bench/pacing_oracle.py [--json] [--seeds N] [--first-seed S] [--teams N ...] [--step R] [--workers W]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialer.pacing.view import PacingView, ProgressivePacer  # noqa: E402
from dialer.simulate.pacing import Scenario, simulate  # noqa: E402

TEAMS = (5, 10, 20, 50, 100)
RATES = (0.15, 0.30)
TARGET = 0.03
ABOVE = 2  # steps tried above the bisection's answer
CRITERIA = ("worst", "mean")  # the seeds' worst abandon rate at or under the target, or their mean
LABEL = {"worst": "worst seed", "mean": "mean"}


class FixedRatio(ProgressivePacer):
    """`ratio` lines ringing per idle agent, the fraction rounded at random (seeded)."""

    name = "fixed_ratio"

    def __init__(self, ratio: float, seed: int) -> None:
        self.ratio = ratio
        self.rng = random.Random(seed)

    def lines_to_dial(self, view: PacingView) -> int:
        wanted = view.idle_agents * self.ratio
        lines = int(wanted) + (self.rng.random() < wanted - int(wanted))
        return max(0, lines - len(view.ringing_elapsed))


def run_one(job: tuple[int, float, float, int]) -> tuple[float, float]:
    agents, rate, ratio, seed = job
    result = simulate(Scenario(agents=agents, answer_rate=rate, seed=seed), FixedRatio(ratio, seed))
    return result.occupancy, result.abandon_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object per cell")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--teams", nargs="+", type=int, default=TEAMS)
    parser.add_argument("--step", type=float, default=0.1, help="the ratio's resolution")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    cells = [(n, r) for n in args.teams for r in RATES]
    # Ratio k is 1 + k * step. Per cell: (mean occupancy, mean abandon, worst abandon, worst occupancy) per k;
    # per cell and criterion: the bracket (lo feasible, hi not) the bisection narrows.
    measured: dict[tuple[int, float], dict[int, tuple[float, float, float, float]]] = {cell: {} for cell in cells}
    searches = [(cell, criterion) for cell in cells for criterion in CRITERIA]
    top = {cell: round((2.5 / cell[1] - 1) / args.step) for cell in cells}
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        def measure(wanted: list[tuple[tuple[int, float], int]]) -> None:
            jobs = sorted({(cell, k, seed) for cell, k in wanted if k not in measured[cell] for seed in seeds},
                          key=lambda j: (-j[0][0], j))  # big teams first: better packing over the workers
            outcomes = pool.map(run_one, [(c[0], c[1], 1 + k * args.step, s) for c, k, s in jobs])
            per: dict[tuple[tuple[int, float], int], list[tuple[float, float]]] = {}
            for (cell, k, _), outcome in zip(jobs, outcomes):
                per.setdefault((cell, k), []).append(outcome)
            for (cell, k), runs in per.items():
                measured[cell][k] = (mean(o for o, _ in runs), mean(a for _, a in runs), max(a for _, a in runs),
                                     min(o for o, _ in runs))

        def feasible(cell: tuple[int, float], k: int, criterion: str) -> bool:
            return measured[cell][k][1 if criterion == "mean" else 2] <= TARGET

        measure([(cell, k) for cell in cells for k in (0, top[cell])])
        bracket = {(cell, c): (top[cell], top[cell]) if feasible(cell, top[cell], c) else (0, top[cell])
                   for cell, c in searches}
        while open_ := {key: (lo + hi) // 2 for key, (lo, hi) in bracket.items() if hi - lo > 1}:
            measure([(cell, k) for (cell, _), k in open_.items()])
            for (cell, criterion), k in open_.items():
                lo, hi = bracket[cell, criterion]
                bracket[cell, criterion] = (k, hi) if feasible(cell, k, criterion) else (lo, k)
        measure([(cell, lo + i) for (cell, _), (lo, _) in bracket.items() for i in range(1, ABOVE + 1)])
    rows = []
    for cell, criterion in searches:
        ok = [k for k in measured[cell] if feasible(cell, k, criterion)]
        best = max(ok, key=lambda k: measured[cell][k][0]) if ok else None
        occupancy, abandon, abandon_max, worst = measured[cell][best] if best is not None else (0.0,) * 4
        rows.append({"agents": cell[0], "answer_rate": cell[1], "criterion": criterion,
                     "ratio": round(1 + best * args.step, 3) if best is not None else None,
                     "occupancy": round(occupancy, 4), "occupancy_min_seed": round(worst, 4),
                     "abandon_rate": round(abandon, 4), "abandon_rate_max_seed": round(abandon_max, 4),
                     "ratios_tried": len(measured[cell])})
    elapsed = time.perf_counter() - started
    if args.json:
        for row in rows:
            print(json.dumps(row))
        print(json.dumps({"seeds": list(seeds), "step": args.step, "seconds": round(elapsed, 1)}))
        return
    print(f"{'agents':>6} {'answer':>6} {'abandon ≤3%':>11} {'ratio':>6} {'occupancy':>9} {'worst':>6} "
          f"{'abandon':>8} {'worst':>6}")
    for row in rows:
        print(f"{row['agents']:>6} {row['answer_rate']:>6.0%} {LABEL[row['criterion']]:>11} {row['ratio'] or 0:>6.2f} "
              f"{row['occupancy']:>9.4f} {row['occupancy_min_seed']:>6.3f} {row['abandon_rate']:>8.2%} "
              f"{row['abandon_rate_max_seed']:>6.2%}")
    print(f"seeds {seeds.start}..{seeds.stop - 1}, ratio step {args.step}, {elapsed:.0f} s")


if __name__ == "__main__":
    main()
