"""Compliance: rule packs, the pre-dial gate and its dial receipts, holds.

Knows rules, not SIP. `evaluate` is pure; `ComplianceGate` reads its facts from the case store.
"""

from compliance.decision import Decision, evaluate
from compliance.facts import AttemptFact, CallFacts, CampaignFacts, DebtorNumberFact, HoldFact
from compliance.gate import ComplianceGate
from compliance.holds import HoldError, import_dnc, place_hold, release_hold
from compliance.receipt import explain
from compliance.rulepack import RulePack, RulePackError, load_packs

__all__ = ["AttemptFact", "CallFacts", "CampaignFacts", "ComplianceGate", "Decision", "DebtorNumberFact", "HoldError",
           "HoldFact", "RulePack", "RulePackError", "evaluate", "explain", "import_dnc", "load_packs", "place_hold",
           "release_hold"]
