"""The phrase and pattern lexicons (`compliance/lexicons/<lang>.yaml`), compiled once.

A lexicon is data reviewed like a rule pack: each rule names its category, its patterns, what must also be
said (`also`), what makes the statement lawful (`unless`), the call context it needs (`when`) and whether a
negation cue cancels it. This module only parses and compiles; matching is in `matcher`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compliance.screening.categories import LEXICON_DIR, Category, LexiconError

LANGUAGES = ("en", "zh")
CONTEXT_FLAGS = frozenset({"time_barred", "third_party"})
_MACRO = re.compile(r"<([a-z_]+)>")
_RULE_KEYS = {"id", "patterns", "also", "unless", "when", "negatable"}


@dataclass(frozen=True)
class Rule:
    id: str  # "<lang>/<category>/<rule id>", quoted in every finding
    category: Category
    pattern: re.Pattern[str]
    also: tuple[re.Pattern[str], ...] = ()
    unless: re.Pattern[str] | None = None
    when: frozenset[str] = frozenset()
    negatable: bool = True


@dataclass(frozen=True)
class Negation:
    cues: re.Pattern[str]
    breakers: re.Pattern[str]
    conditions: re.Pattern[str]
    before: int  # words (en) or characters (zh) between a cue and the match
    after: int
    by_chars: bool


@dataclass(frozen=True)
class LanguageLexicon:
    lang: str
    version: str
    rules: tuple[Rule, ...]
    negation: Negation


def expand(text: str, macros: dict[str, str], where: str) -> str:
    """Replace <name> by its macro, recursively (macros may use other macros)."""
    for _ in range(10):
        names = _MACRO.findall(text)
        if not names:
            return text
        unknown = sorted(set(names) - set(macros))
        if unknown:
            raise LexiconError(f"{where}: unknown macro(s) {unknown}")
        text = _MACRO.sub(lambda m: macros[m.group(1)], text)
    raise LexiconError(f"{where}: macros nest too deep")


def compile_patterns(lang: str, patterns: list[str], macros: dict[str, str], where: str) -> re.Pattern[str]:
    """One alternation; English alternatives are held to word boundaries."""
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise LexiconError(f"{where}: needs a list of non-empty patterns")
    parts = [expand(p, macros, where) for p in patterns]
    if lang != "zh":
        parts = [rf"(?<![\w'])(?:{p})(?!\w)" for p in parts]
    try:
        return re.compile("|".join(f"(?:{p})" for p in parts))
    except re.error as error:
        raise LexiconError(f"{where}: {error}") from None


def _rule(lang: str, category: Category, raw: dict[str, Any], macros: dict[str, str]) -> Rule:
    where = f"{lang}.yaml: {category.value}/{raw.get('id')}"
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown or not raw.get("id"):
        raise LexiconError(f"{where}: needs an id; unknown key(s) {unknown}")
    when = frozenset(raw.get("when") or ())
    if when - CONTEXT_FLAGS:
        raise LexiconError(f"{where}: when must be among {sorted(CONTEXT_FLAGS)}")
    return Rule(
        id=f"{lang}/{category.value}/{raw['id']}", category=category,
        pattern=compile_patterns(lang, raw.get("patterns") or [], macros, where),
        also=tuple(compile_patterns(lang, [p], macros, where) for p in raw.get("also") or ()),
        unless=compile_patterns(lang, raw["unless"], macros, where) if raw.get("unless") else None,
        when=when, negatable=bool(raw.get("negatable", True)),
    )


def _negation(lang: str, raw: dict[str, Any]) -> Negation:
    def words(key: str) -> re.Pattern[str]:
        alternation = raw[key]
        return re.compile(f"(?:{alternation})" if lang == "zh" else rf"(?<![\w'])(?:{alternation})(?![\w'])")

    try:
        return Negation(words("cues"), words("breakers"),
                        re.compile(f"^\\s*(?:{raw['conditions']})" + ("" if lang == "zh" else r"\b")),
                        int(raw["before"]), int(raw["after"]), by_chars=lang == "zh")
    except (KeyError, TypeError, ValueError, re.error) as error:
        raise LexiconError(f"{lang}.yaml: negation needs cues, breakers, conditions, before, after ({error})") from None


def load_language(lang: str, directory: Path = LEXICON_DIR) -> LanguageLexicon:
    data = yaml.safe_load((directory / f"{lang}.yaml").read_text(encoding="utf-8"))
    if data.get("lang") != lang or not data.get("version"):
        raise LexiconError(f"{lang}.yaml: needs lang: {lang} and a version")
    macros = {name: str(value) for name, value in (data.get("macros") or {}).items()}
    rules: list[Rule] = []
    for name, entries in (data.get("rules") or {}).items():
        try:
            category = Category(name)
        except ValueError:
            raise LexiconError(f"{lang}.yaml: unknown category {name!r}") from None
        rules += [_rule(lang, category, entry, macros) for entry in entries]
    return LanguageLexicon(lang, str(data["version"]), tuple(rules), _negation(lang, data.get("negation") or {}))


def load_lexicons(directory: Path = LEXICON_DIR) -> dict[str, LanguageLexicon]:
    return {lang: load_language(lang, directory) for lang in LANGUAGES}
