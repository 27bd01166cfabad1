"""Call-level disclosures (`compliance/lexicons/disclosures.yaml`): which the agent never gave in a call.

The rule packs say what a dialer may do, not what an agent must say, so the requirement per jurisdiction is
lexicon data. Pure: given the agent's normalised utterances and the call context, the missing elements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from compliance.screening.categories import LEXICON_DIR, LexiconError
from compliance.screening.lexicon import CONTEXT_FLAGS, LANGUAGES, compile_patterns


@dataclass(frozen=True)
class Element:
    name: str
    means: str
    patterns: dict[str, re.Pattern[str]]  # by language
    skip_when: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Disclosures:
    version: str
    jurisdictions: dict[str, tuple[str, ...]]
    elements: dict[str, Element]

    def required(self, jurisdiction: str, context: frozenset[str] = frozenset()) -> tuple[Element, ...]:
        """The elements a call under this pack must contain; a pack not listed uses its base (US-FL -> US)."""
        names = self.jurisdictions.get(jurisdiction) or self.jurisdictions.get(jurisdiction.split("-")[0], ())
        return tuple(self.elements[n] for n in names if not self.elements[n].skip_when & context)

    def missing(self, jurisdiction: str, agent_lines: Iterable[tuple[str, str]],
                context: frozenset[str] = frozenset()) -> tuple[Element, ...]:
        """Required elements found in none of the agent's (language, normalised text) lines."""
        lines = list(agent_lines)
        if not lines:
            return ()
        return tuple(element for element in self.required(jurisdiction, context)
                     if not any(lang in element.patterns and element.patterns[lang].search(text)
                                for lang, text in lines))


def load_disclosures(directory: Path = LEXICON_DIR) -> Disclosures:
    data = yaml.safe_load((directory / "disclosures.yaml").read_text(encoding="utf-8"))
    elements: dict[str, Element] = {}
    for name, raw in (data.get("elements") or {}).items():
        where = f"disclosures.yaml: {name}"
        skip = frozenset(raw.get("skip_when") or ())
        if skip - CONTEXT_FLAGS or set(raw.get("patterns") or {}) - set(LANGUAGES):
            raise LexiconError(f"{where}: skip_when among {sorted(CONTEXT_FLAGS)}, patterns keyed by {LANGUAGES}")
        patterns = {lang: compile_patterns(lang, list(found), {}, f"{where}/{lang}")
                    for lang, found in raw["patterns"].items()}
        elements[name] = Element(name, str(raw.get("means", "")), patterns, skip)
    jurisdictions = {code: tuple(names) for code, names in (data.get("jurisdictions") or {}).items()}
    unknown = sorted({n for names in jurisdictions.values() for n in names} - set(elements))
    if unknown:
        raise LexiconError(f"disclosures.yaml: jurisdictions name unknown element(s) {unknown}")
    return Disclosures(str(data["version"]), jurisdictions, elements)
