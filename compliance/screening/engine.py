"""The screening engine: normalise, match the lexicons, ask the learned layer, attribute to the speaker.

`Screener.screen` takes utterances (one per transcript segment or per input line) and returns one `Verdict`
each; `Screener.screen_call` does the same for a whole call and adds the call-level `missing_disclosure`
findings. Nothing here touches the case store: `review.record_screening` saves a `CallScreening`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from compliance.screening.categories import Category, Policies, Severity, Speaker, load_policies
from compliance.screening.disclosure import Disclosures, load_disclosures
from compliance.screening.lexicon import LANGUAGES, LanguageLexicon, load_lexicons
from compliance.screening.matcher import find_hits
from compliance.screening.model import Detection, Embedder, LearnedLayer, UseEmbedder, load_layer
from compliance.screening.normalize import Normalized, normalise

EXCERPT_CHARS = 1000


@dataclass(frozen=True)
class Utterance:
    id: str
    text: str
    lang: str  # "zh" or "en" (a region suffix such as zh-TW is ignored)
    speaker: str  # "agent" or "debtor"; anything else is read as unknown
    start_s: float | None = None
    end_s: float | None = None


@dataclass(frozen=True)
class CallContext:
    jurisdiction: str | None = None  # the rule pack: enables the call-level disclosure check
    time_barred: bool = False  # the account is past its limitation period: any threat to sue is false
    third_party: bool = False  # the agent is speaking to someone other than the debtor

    @property
    def flags(self) -> frozenset[str]:
        return frozenset(name for name, on in (("time_barred", self.time_barred), ("third_party", self.third_party)) if on)


@dataclass(frozen=True)
class Span:
    category: Category
    start: int  # character offsets in the original utterance text
    end: int
    text: str
    source: str  # "lexicon:<lang>/<category>/<rule>" or "model:<version>"
    score: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"category": self.category.value, "start": self.start, "end": self.end, "text": self.text,
                "source": self.source, **({"score": round(self.score, 3)} if self.score is not None else {})}


@dataclass(frozen=True)
class Verdict:
    utterance: Utterance
    speaker: Speaker
    categories: tuple[Category, ...]
    spans: tuple[Span, ...]
    severity: Severity | None

    @property
    def flagged(self) -> bool:
        return bool(self.categories)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.utterance.id, "flagged": self.flagged, "categories": [c.value for c in self.categories],
                "severity": self.severity.label if self.severity else None,
                "spans": [s.to_json() for s in self.spans], "speaker": self.speaker.value,
                "start_s": self.utterance.start_s, "end_s": self.utterance.end_s}


@dataclass(frozen=True)
class CallFinding:
    """One thing for a reviewer: a category in an utterance, or a disclosure the call lacked."""

    category: Category
    severity: Severity
    speaker: Speaker
    utterance_id: str | None
    start_s: float | None
    end_s: float | None
    span_start: int | None
    span_end: int | None
    excerpt: str
    source: str


@dataclass(frozen=True)
class CallScreening:
    verdicts: tuple[Verdict, ...]
    findings: tuple[CallFinding, ...]
    ruleset: str


def resolve_language(lang: str, text: str) -> str:
    code = (lang or "").split("-")[0].split("_")[0].lower()
    if code in LANGUAGES:
        return code
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


def resolve_speaker(speaker: str) -> Speaker:
    try:
        return Speaker((speaker or "").strip().lower())
    except ValueError:
        return Speaker.UNKNOWN


@dataclass
class Screener:
    lexicons: dict[str, LanguageLexicon]
    policies: Policies
    disclosures: Disclosures
    layer: LearnedLayer | None = None
    embedder: Embedder | None = None
    ruleset: str = field(init=False)

    def __post_init__(self) -> None:
        parts = [f"categories@{self.policies.version}", *(f"{k}@{v.version}" for k, v in self.lexicons.items()),
                 f"disclosures@{self.disclosures.version}"]
        if self.layer is not None:
            parts.append(f"model@{self.layer.version}")
        self.ruleset = " ".join(parts)

    @classmethod
    def load(cls, *, learned: bool = True, threads: int = 1) -> Screener:
        """Lexicons from compliance/lexicons; the learned layer too unless `learned=False` (lexicons only)."""
        return cls(load_lexicons(), load_policies(), load_disclosures(),
                   load_layer() if learned else None, UseEmbedder(threads) if learned else None)

    def screen(self, utterances: Sequence[Utterance], context: CallContext = CallContext()) -> list[Verdict]:
        langs = [resolve_language(u.lang, u.text) for u in utterances]
        normalised = [normalise(u.text) for u in utterances]
        learned = self._learned([n.text for n in normalised], langs)
        return [self._verdict(u, lang, norm, found, context)
                for u, lang, norm, found in zip(utterances, langs, normalised, learned)]

    def screen_call(self, utterances: Sequence[Utterance], context: CallContext = CallContext()) -> CallScreening:
        verdicts = self.screen(utterances, context)
        findings = [finding for verdict in verdicts for finding in self._findings(verdict)]
        if context.jurisdiction:
            findings += self._missing_disclosures(verdicts, context)
        return CallScreening(tuple(verdicts), tuple(findings), self.ruleset)

    def _learned(self, texts: list[str], langs: list[str]) -> list[dict[Category, Detection]]:
        if self.layer is None or self.embedder is None:
            return [{} for _ in texts]
        return self.layer.detect(texts, langs, self.embedder)

    def _verdict(self, utterance: Utterance, lang: str, norm: Normalized, learned: dict[Category, Detection],
                 context: CallContext) -> Verdict:
        speaker = resolve_speaker(utterance.speaker)
        spans: list[Span] = []
        for hit in find_hits(self.lexicons[lang], norm.text, context.flags):
            start, end = norm.original_span(hit.start, hit.end)
            spans.append(Span(hit.category, start, end, utterance.text[start:end], f"lexicon:{hit.rule}"))
        found = {s.category for s in spans}
        for category, detection in learned.items():
            if category not in found and self.layer is not None:
                start, end = norm.original_span(detection.start, detection.end)
                spans.append(Span(category, start, end, utterance.text[start:end],
                                  f"model:{self.layer.version}", detection.score))
        spans = [s for s in spans if not self.policies[s.category].call_level
                 and self.policies[s.category].applies_to(speaker)]
        categories = tuple(c for c in Category if any(s.category is c for s in spans))
        severity = max((self.policies[c].severity for c in categories), default=None)
        return Verdict(utterance, speaker, categories, tuple(sorted(spans, key=lambda s: (s.start, s.end))), severity)

    def _findings(self, verdict: Verdict) -> list[CallFinding]:
        u = verdict.utterance
        firsts = {c: next(s for s in verdict.spans if s.category is c) for c in verdict.categories}
        return [CallFinding(c, self.policies[c].severity, verdict.speaker, u.id, u.start_s, u.end_s,
                            span.start, span.end, u.text[:EXCERPT_CHARS], span.source) for c, span in firsts.items()]

    def _missing_disclosures(self, verdicts: list[Verdict], context: CallContext) -> list[CallFinding]:
        agent = [v for v in verdicts if v.speaker is Speaker.AGENT]
        lines = [(resolve_language(v.utterance.lang, v.utterance.text), normalise(v.utterance.text).text) for v in agent]
        missing = self.disclosures.missing(context.jurisdiction or "", lines, context.flags)
        policy = self.policies[Category.MISSING_DISCLOSURE]
        start = agent[0].utterance.start_s if agent else None
        end = agent[-1].utterance.end_s if agent else None
        return [CallFinding(Category.MISSING_DISCLOSURE, policy.severity, Speaker.AGENT, None, start, end, None, None,
                            f"{element.name}: {element.means}", f"disclosures:{element.name}") for element in missing]
