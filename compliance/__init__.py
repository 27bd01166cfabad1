"""Compliance: rule packs, the pre-dial gate and its dial receipts, holds.

Knows rules, not SIP. `evaluate` is pure; `ComplianceGate` reads its facts from the case store.

The face is light: the pure modules load eagerly, while the members that touch the case store (the gate,
holds) load on first use (PEP 562), so `import compliance.checks` does not pull in SQLAlchemy.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from compliance.decision import Decision, evaluate
from compliance.facts import (
    AttemptFact,
    CallFacts,
    CampaignFacts,
    DebtorNumberFact,
    HoldFact,
    MessageFacts,
    ScreeningFact,
)
from compliance.receipt import explain
from compliance.rulepack import RulePack, RulePackError, load_packs

if TYPE_CHECKING:
    from compliance.gate import ComplianceGate
    from compliance.holds import HoldError, import_dnc, place_hold, release_hold

_WITH_STORE = {"ComplianceGate": "compliance.gate", "HoldError": "compliance.holds", "import_dnc": "compliance.holds",
               "place_hold": "compliance.holds", "release_hold": "compliance.holds"}

__all__ = ["AttemptFact", "CallFacts", "CampaignFacts", "ComplianceGate", "Decision", "DebtorNumberFact", "HoldError",
           "HoldFact", "MessageFacts", "RulePack", "RulePackError", "evaluate", "explain", "import_dnc", "load_packs", "place_hold",
           "release_hold", "ScreeningFact"]


def __getattr__(name: str) -> Any:
    if name in _WITH_STORE:
        return getattr(import_module(_WITH_STORE[name]), name)
    raise AttributeError(f"module 'compliance' has no attribute {name!r}")
