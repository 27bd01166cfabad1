"""Pacing policies side by side on the same seeded scenarios: occupancy and abandon rate per team size.

Standard scenario: 5, 10, 20, 50 and 100 agents x live-answer probability 15% and 30%, 8-hour shift,
exponential talk (mean 120 s) + 10 s wrap, live answers after 4-20 s of ringing, failures after 5-26 s,
abandon when no agent within 2 s; 10 seeds (--seeds), each cell as mean and worst seed. Scenarios the pacer
was not tuned on (issue 21): drift (20 agents: answer rate 30% for 3 h, then 10%, then 25%); answer_fall (30%
falling to 10% during the second hour); talk_doubling (mean talk 120 s, 240 s from the second hour); pause
(20% of the agents go on a 15-minute break at once after 2 h); small (a 3-agent team).
Policies: progressive, VICIdial ADAPT_HARD_LIMIT and ADAPT_TAPERED (re-implemented), and Dunline's.
Writes a PNG (occupancy and abandon rate per team size) next to the table.

    python bench/pacing.py [--json] [--quick] [--seeds N] [--first-seed S] [--policies P ...] [--scenarios S ...]
                           [--teams N ...] [--plot FILE]

--first-seed checks a pacer on seeds it was not tuned on (the default seeds are 1..N).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialer.pacing.predictive import PredictivePacer  # noqa: E402
from dialer.pacing.vicidial import VicidialPacer  # noqa: E402
from dialer.pacing.view import ProgressivePacer  # noqa: E402
from dialer.simulate.pacing import Scenario, answer_fall, drift, simulate, talk_doubling  # noqa: E402

TEAMS = (5, 10, 20, 50, 100)
RATES = (0.15, 0.30)
POLICIES = ("dunline", "progressive", "vicidial_hard_limit", "vicidial_tapered")
# Scenario name -> (team sizes, answer rates; None where the scenario sets its own profile, Scenario fields).
SCENARIOS: dict[str, tuple[tuple[int, ...], tuple[float | None, ...], dict]] = {  # type: ignore[type-arg]
    "standard": (TEAMS, RATES, {}),
    "drift": ((20,), (None,), {"answer_rate": drift}),
    "answer_fall": ((5, 50), (None,), {"answer_rate": answer_fall}),
    "talk_doubling": ((5, 50), (0.15,), {"talk_mean_s": talk_doubling}),
    "pause": ((5, 50), (0.15,), {"pause_share": 0.2}),
    "small": ((3,), RATES, {}),
}
# The goals (issue 21): what an oracle knowing the true parameters was said to get with the best fixed
# lines-per-idle-agent ratio. bench/pacing_oracle.py measures that oracle on this simulator (seeds 1-10, ratio step
# 0.2, fraction rounded at random): lower in every cell, 5@15% 0.663 / 0.724 and 50@15% 0.915 / 0.918 (worst seed /
# mean abandon at or under 3%). The goals are kept as they were set, not lowered to the measurement.
ORACLE = {(5, 0.15): 0.74, (5, 0.30): 0.79, (10, 0.15): 0.79, (10, 0.30): 0.82, (20, 0.15): 0.86,
          (20, 0.30): 0.88, (50, 0.15): 0.93, (50, 0.30): 0.93, (100, 0.15): 0.95, (100, 0.30): 0.95}


def make_policy(name: str):  # type: ignore[no-untyped-def]
    if name == "dunline":
        return PredictivePacer()
    if name == "progressive":
        return ProgressivePacer()
    return VicidialPacer(name.removeprefix("vicidial_"))


def run_one(job: tuple[str, str, int, float | None, int]) -> dict:  # type: ignore[type-arg]
    scenario_name, policy, agents, rate, seed = job
    fields = {"answer_rate": rate, **SCENARIOS[scenario_name][2]}
    result = simulate(Scenario(agents=agents, seed=seed, **fields), make_policy(policy))
    return {"scenario": scenario_name, "policy": policy, "agents": agents, "answer_rate": rate, "seed": seed,
            "occupancy": result.occupancy, "abandon_rate": result.abandon_rate,
            "calls_per_agent_hour": result.calls_per_agent_hour}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object per cell and policy")
    parser.add_argument("--quick", action="store_true", help="one seed")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per cell (mean and worst are reported)")
    parser.add_argument("--first-seed", type=int, default=1, help="seeds are first-seed .. first-seed + seeds - 1")
    parser.add_argument("--plot", type=Path, default=Path("bench/out/pacing.png"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--policies", nargs="+", choices=POLICIES, default=POLICIES)
    parser.add_argument("--scenarios", nargs="+", choices=tuple(SCENARIOS), default=tuple(SCENARIOS))
    parser.add_argument("--teams", nargs="+", type=int, help="only these team sizes")
    args = parser.parse_args()
    seeds = (args.first_seed,) if args.quick else tuple(range(args.first_seed, args.first_seed + args.seeds))
    jobs = [(name, p, n, r, s) for name in args.scenarios for n in SCENARIOS[name][0] for r in SCENARIOS[name][1]
            for p in args.policies for s in seeds if not args.teams or n in args.teams]
    jobs.sort(key=lambda j: -j[2])  # big teams first: better packing over the workers
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(run_one, jobs))
    cells: dict[tuple, list[dict]] = {}  # type: ignore[type-arg]
    for run in runs:
        cells.setdefault((run["scenario"], run["policy"], run["agents"], run["answer_rate"]), []).append(run)
    rows = []
    order = tuple(SCENARIOS)
    for (scenario, policy, agents, rate), group in sorted(cells.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][2], kv[0][3] or 0, POLICIES.index(kv[0][1]))):
        rows.append({"scenario": scenario, "policy": policy, "agents": agents, "answer_rate": rate,
                     "occupancy": round(mean(g["occupancy"] for g in group), 4),
                     "occupancy_min_seed": round(min(g["occupancy"] for g in group), 4),
                     "abandon_rate": round(mean(g["abandon_rate"] for g in group), 4),
                     "abandon_rate_max_seed": round(max(g["abandon_rate"] for g in group), 4),
                     "calls_per_agent_hour": round(mean(g["calls_per_agent_hour"] for g in group), 2)})
    elapsed = time.perf_counter() - started
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(f"{'scenario':13} {'agents':>6} {'answer':>6} {'policy':20} {'occupancy':>9} {'worst':>6} {'oracle':>6} "
              f"{'abandon':>8} {'worst':>6} {'calls/agent-h':>13}")
        for row in rows:
            oracle = ORACLE.get((row["agents"], row["answer_rate"])) if row["scenario"] == "standard" else None
            mark = ""
            if row["policy"] == "dunline":  # the goal: <= 3% on the worst seed everywhere, the oracle's occupancy
                ok = row["abandon_rate_max_seed"] <= 0.03 and row["occupancy"] >= (oracle or 0)
                mark = " ok" if ok else " BELOW GOAL"
            rate = "-" if row["answer_rate"] is None else f"{row['answer_rate']:.0%}"
            print(f"{row['scenario']:13} {row['agents']:>6} {rate:>6} {row['policy']:20} {row['occupancy']:>9.3f} "
                  f"{row['occupancy_min_seed']:>6.3f} {(f'{oracle:.2f}' if oracle and row['policy'] == 'dunline' else ''):>6} "
                  f"{row['abandon_rate']:>8.2%} {row['abandon_rate_max_seed']:>6.2%} {row['calls_per_agent_hour']:>13.1f}{mark}")
        print(f"{len(runs)} simulated shifts in {elapsed:.0f} s")
    if "standard" in args.scenarios:
        plot(rows, args.plot, args.policies)


def plot(rows: list[dict], path: Path, policies: tuple[str, ...]) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for column, rate in enumerate(RATES):
        for policy in policies:
            points = [r for r in rows if r["scenario"] == "standard" and r["policy"] == policy and r["answer_rate"] == rate]
            axes[0][column].plot([p["agents"] for p in points], [p["occupancy"] for p in points], marker="o", label=policy)
            axes[1][column].plot([p["agents"] for p in points], [100 * p["abandon_rate"] for p in points], marker="o", label=policy)
        axes[0][column].plot(TEAMS, [ORACLE[(n, rate)] for n in TEAMS], "k--", label="oracle (best fixed ratio)")
        axes[0][column].set_title(f"occupancy, answer rate {rate:.0%}")
        axes[1][column].set_title(f"abandon rate %, answer rate {rate:.0%}")
        axes[1][column].axhline(3.0, color="red", linestyle=":")
        axes[1][column].set_xscale("log")
        axes[1][column].set_xticks(TEAMS, [str(t) for t in TEAMS])
        axes[1][column].set_yscale("symlog", linthresh=5)  # VICIdial TAPERED runs at 15-45%
        axes[1][column].set_ylim(0, 60)
    axes[0][0].legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("agents")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
