"""The screening vocabulary: categories, severities, speakers, and each category's policy from
`compliance/lexicons/categories.yaml` (whose words it applies to, how grave it is, which hold it places)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"


class LexiconError(ValueError):
    """A lexicon, category or disclosure file that is malformed."""


class Category(enum.StrEnum):
    THREAT_VIOLENCE = "threat_violence"
    FALSE_LEGAL_THREAT = "false_legal_threat"
    HARASSMENT_ABUSE = "harassment_abuse"
    THIRD_PARTY_DISCLOSURE = "third_party_disclosure"
    MISSING_DISCLOSURE = "missing_disclosure"
    CEASE_REQUEST = "cease_request"
    DISPUTE = "dispute"


class Severity(enum.IntEnum):
    """Ordered so that `max()` gives the gravest."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Speaker(enum.StrEnum):
    AGENT = "agent"
    DEBTOR = "debtor"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class HoldPolicy:
    kind: str  # a cases.models.HoldKind value
    scope: str  # "debtor" | "account"


@dataclass(frozen=True)
class CategoryPolicy:
    category: Category
    severity: Severity
    speakers: frozenset[Speaker]
    action: bool  # an event demanding action (cease, dispute), not a violation
    call_level: bool
    hold: HoldPolicy | None

    def applies_to(self, speaker: Speaker) -> bool:
        """An unknown speaker may be anyone: the finding stands and the reviewer decides."""
        return speaker is Speaker.UNKNOWN or speaker in self.speakers


@dataclass(frozen=True)
class Policies:
    version: str
    by_category: dict[Category, CategoryPolicy]

    def __getitem__(self, category: Category) -> CategoryPolicy:
        return self.by_category[category]


def _policy(name: str, raw: dict[str, Any]) -> CategoryPolicy:
    where = f"categories.yaml: {name}"
    try:
        category = Category(name)
        severity = Severity[str(raw["severity"]).upper()]
        speakers = frozenset(Speaker(s) for s in raw["speakers"])
    except (KeyError, ValueError) as error:
        raise LexiconError(f"{where}: {error!r}") from None
    if raw.get("kind") not in ("violation", "action"):
        raise LexiconError(f"{where}: kind must be violation or action")
    hold = raw.get("hold")
    if hold is not None and (set(hold) != {"kind", "scope"} or hold["scope"] not in ("debtor", "account")):
        raise LexiconError(f"{where}: hold must be {{kind: ..., scope: debtor|account}}")
    return CategoryPolicy(category, severity, speakers, raw["kind"] == "action", bool(raw.get("call_level")),
                          HoldPolicy(hold["kind"], hold["scope"]) if hold else None)


def load_policies(directory: Path = LEXICON_DIR) -> Policies:
    data = yaml.safe_load((directory / "categories.yaml").read_text(encoding="utf-8"))
    raw = data.get("categories") or {}
    missing = sorted(set(Category) - set(raw))
    if missing:
        raise LexiconError(f"categories.yaml: no entry for {missing}")
    return Policies(str(data["version"]), {Category(name): _policy(name, body) for name, body in raw.items()})
