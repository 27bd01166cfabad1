"""Transcript screening: prohibited collection practices and action events in what was said on a call.

Layers: normalisation, curated bilingual lexicons (compliance/lexicons, versioned data), a learned layer on
multilingual sentence embeddings and hashed n-grams, speaker attribution, call-level disclosure checks. `Screener` is pure;
`review` saves findings to the case store, places the holds they demand and runs the review queue.
"""

from cases.models.screening import Decision, FindingStatus, ScreeningFinding, ScreeningReview
from compliance.screening.categories import Category, LexiconError, Severity, Speaker, load_policies
from compliance.screening.context import call_context
from compliance.screening.engine import CallContext, CallFinding, CallScreening, Screener, Span, Utterance, Verdict
from compliance.screening.review import (
    AgentTally,
    FlaggedCall,
    ScreeningError,
    agent_names,
    agent_report,
    call_findings,
    flagged_calls,
    record_screening,
    review_finding,
)

__all__ = ["AgentTally", "CallContext", "CallFinding", "CallScreening", "Category", "Decision", "FindingStatus",
           "FlaggedCall", "LexiconError", "ScreeningError", "ScreeningFinding", "ScreeningReview", "Screener", "Severity",
           "Span", "Speaker", "Utterance", "Verdict", "agent_names", "agent_report", "call_context", "call_findings", "flagged_calls",
           "load_policies", "record_screening", "review_finding"]
