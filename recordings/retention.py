"""Retention policies: how long each kind of collection record is kept, per jurisdiction, and why.

Policy as data (`retention.yaml`, beside this module), cited to the law as the rule packs are; this module
reads and checks it and answers, without I/O, when a record falls due for destruction. The destruction job is
`campaigns.destruction`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

POLICY_FILE = Path(__file__).with_name("retention.yaml")


class RecordKind(enum.StrEnum):
    RECORDINGS = "recordings"
    TRANSCRIPTS = "transcripts"
    ATTEMPTS = "attempts"
    CLOSED_CASES = "closed_cases"


class Anchor(enum.StrEnum):
    """What a retention period runs from."""

    CALL = "call"
    LAST_ACTIVITY = "last_activity"  # the account's last attempt
    CLOSED = "closed"


# What each kind's period may run from: a call's records from the call or the account's last activity; a closed
# case from its closing (the job reads "closed" as the latest change the account saw, never earlier).
ANCHORS = {RecordKind.RECORDINGS: {Anchor.CALL, Anchor.LAST_ACTIVITY},
           RecordKind.TRANSCRIPTS: {Anchor.CALL, Anchor.LAST_ACTIVITY},
           RecordKind.ATTEMPTS: {Anchor.CALL, Anchor.LAST_ACTIVITY},
           RecordKind.CLOSED_CASES: {Anchor.CLOSED}}


@dataclass(frozen=True)
class Policy:
    jurisdiction: str
    kind: RecordKind
    keep_days: int
    minimum_days: int
    anchor: Anchor
    source: str

    def due(self, anchor_at: datetime) -> datetime:
        """When a record whose period runs from `anchor_at` may be destroyed."""
        return anchor_at + timedelta(days=self.keep_days)


class RetentionError(ValueError):
    """A policy file that breaks its own rules (a period below the law's minimum, a kind missing)."""


@dataclass(frozen=True)
class RetentionPolicies:
    version: str
    policies: dict[tuple[str, RecordKind], Policy]

    def shortest_days(self, kind: RecordKind) -> int:
        """The shortest period of `kind` any jurisdiction keeps: nothing younger can be due."""
        return min(policy.keep_days for (_, each), policy in self.policies.items() if each is kind)

    def policy(self, jurisdiction: str | None, kind: RecordKind) -> Policy | None:
        """The jurisdiction's policy (`US-FL` falls back to `US`); None when there is none: keep the record."""
        if not jurisdiction:
            return None
        for name in (jurisdiction, jurisdiction.split("-")[0]):
            if (name, kind) in self.policies:
                return self.policies[(name, kind)]
        return None


def parse_policies(data: dict[str, Any]) -> RetentionPolicies:
    policies: dict[tuple[str, RecordKind], Policy] = {}
    for jurisdiction, kinds in data["policies"].items():
        missing = {kind.value for kind in RecordKind} - set(kinds)
        if missing:
            raise RetentionError(f"{jurisdiction}: no policy for {', '.join(sorted(missing))}")
        for kind_name, item in kinds.items():
            kind = RecordKind(kind_name)
            policy = Policy(jurisdiction, kind, int(item["keep_days"]), int(item["minimum_days"]),
                            Anchor(item["from"]), str(item["source"]).strip())
            if policy.keep_days < policy.minimum_days:
                raise RetentionError(f"{jurisdiction} {kind}: keeps {policy.keep_days} days, below the "
                                     f"{policy.minimum_days} the law asks")
            if policy.anchor not in ANCHORS[kind]:
                raise RetentionError(f"{jurisdiction} {kind}: a period cannot run from {policy.anchor} (only from "
                                     f"{', '.join(sorted(ANCHORS[kind]))})")
            if not policy.source:
                raise RetentionError(f"{jurisdiction} {kind}: no source cited")
            policies[(jurisdiction, kind)] = policy
    return RetentionPolicies(str(data["version"]), policies)


def load_policies(path: Path = POLICY_FILE) -> RetentionPolicies:
    return parse_policies(yaml.safe_load(path.read_text(encoding="utf-8")))
