"""Answering-machine detection on the evaluation set of bench/amd/evalset.py (built on first run, cached
under bench/out/amd/): people answering, machines greeting with and without a beep, dead air, each clean
and in white or pink noise at 20 and 10 dB SNR, through a telephone channel and G.711 mu-law.

Every sample is fed to a fresh `speech.amd.AmdDetector` frame by frame, until the detector is done (a
human verdict, or a beep) or the sample ends. Scoring:
- samples: every sample of the set (people, machines and dead air);
- accuracy: first verdicts that match the label, over the samples labelled human or machine. A machine
  is matched by machine or machine_beep; not-sure is never correct (its rate is printed apart);
- false-machine rate: humans given machine or machine_beep at any point, over all humans;
- decision latency: audio time of the first verdict; the median is over every sample;
- dead air (label silence) is right when judged not-sure; it is printed apart, outside the accuracy;
- beeps: machines whose beep is reported as machine_beep, and how long after the tone ends.

Goals: accuracy >= 95%, false-machine rate <= 2%, median decision latency <= 2.5 s.

    nice -n 10 python bench/amd.py [--json] [--greeting-s 1.8] [--after-greeting-silence-s 0.5] ...

The options override `AmdSettings` (the grid the defaults were chosen from was run this way).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "amd"))

from evalset import OUT, RECIPE, Sample, build  # noqa: E402

from audio.wav import read_pcm  # noqa: E402
from speech.amd import AmdDetector, AmdSettings, AmdVerdict, Verdict  # noqa: E402
from speech.vad import FRAME  # noqa: E402

MACHINE_KINDS = (Verdict.MACHINE, Verdict.MACHINE_BEEP)


@dataclasses.dataclass(frozen=True)
class Outcome:
    sample: Sample
    first: AmdVerdict
    beep: AmdVerdict | None

    @property
    def correct(self) -> bool:
        if self.sample.label == "machine":
            return self.first.kind in MACHINE_KINDS
        return self.first.kind == (Verdict.HUMAN if self.sample.label == "human" else Verdict.NOT_SURE)

    @property
    def judged_machine(self) -> bool:
        return self.first.kind in MACHINE_KINDS or self.beep is not None


def run(sample: Sample, settings: AmdSettings) -> Outcome:
    pcm = read_pcm(OUT / RECIPE / sample.path)
    detector, verdicts = AmdDetector(settings), []
    for start in range(0, len(pcm) - FRAME + 1, FRAME):
        if (verdict := detector.feed(pcm[start:start + FRAME])) is not None:
            verdicts.append(verdict)
        if detector.done:
            break
    beep = next((v for v in verdicts if v.kind is Verdict.MACHINE_BEEP), None)
    return Outcome(sample, verdicts[0], beep)


def share(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def summary(outcomes: list[Outcome]) -> dict:
    scored = [o for o in outcomes if o.sample.label in ("human", "machine")]
    humans = [o for o in outcomes if o.sample.label == "human"]
    return {"samples": len(outcomes),
            "accuracy": round(share(sum(o.correct for o in scored), len(scored)), 4),
            "false_machine_rate": round(share(sum(o.judged_machine for o in humans), len(humans)), 4),
            "median_decision_s": round(statistics.median(o.first.at_s for o in outcomes), 3)}


def report(outcomes: list[Outcome], settings: AmdSettings) -> None:
    print(f"settings: {settings}")
    print(f"{'condition':<10} {'label':<8} {'n':>4} {'correct':>8} {'human':>6} {'machine':>8} {'not sure':>9} "
          f"{'median s':>9}")
    for condition in [None, *dict.fromkeys(o.sample.condition for o in outcomes)]:
        for label in ("human", "machine", "silence"):
            group = [o for o in outcomes if o.sample.label == label and condition in (None, o.sample.condition)]
            kinds = Counter(Verdict.MACHINE if o.first.kind in MACHINE_KINDS else o.first.kind for o in group)
            right = share(sum(o.correct for o in group), len(group))
            print(f"{condition or 'all':<10} {label:<8} {len(group):>4} {right:>8.1%} "
                  f"{kinds[Verdict.HUMAN]:>6} {kinds[Verdict.MACHINE]:>8} {kinds[Verdict.NOT_SURE]:>9} "
                  f"{statistics.median(o.first.at_s for o in group):>9.2f}")
    with_beep = [o for o in outcomes if o.sample.beep_end_s is not None]
    listened = [o for o in with_beep if o.first.kind is not Verdict.HUMAN]  # a human verdict ends listening
    heard = [o for o in listened if o.beep is not None and o.beep.at_s >= o.sample.beep_start_s]
    delays = [o.beep.at_s - o.sample.beep_end_s for o in heard]
    stray = [o for o in outcomes if o.sample.beep_end_s is None and o.beep is not None]
    print(f"beeps: {len(heard)}/{len(listened)} reported as machine_beep ({len(with_beep) - len(listened)} more came "
          f"after a human verdict), median {statistics.median(delays):.2f} s after the tone ended (max "
          f"{max(delays):.2f} s); machine_beep where there was no beep: {len(stray)}")
    print("wrong:")
    for o in outcomes:
        if not o.correct or o.judged_machine and o.sample.label != "machine":
            print(f"  {o.sample.name:<22} {o.first.kind:<12} {o.first.at_s:5.2f} s  {o.first.reason:<55} "
                  f"{o.sample.source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    for field in dataclasses.fields(AmdSettings):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    args = parser.parse_args()
    settings = AmdSettings(**{field.name: getattr(args, field.name) for field in dataclasses.fields(AmdSettings)})
    outcomes = [run(sample, settings) for sample in build()]
    if not args.json:
        report(outcomes, settings)
    print(json.dumps(summary(outcomes)))


if __name__ == "__main__":
    main()
