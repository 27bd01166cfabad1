"""The legal library (法律法规库): the statute and guideline excerpts the rule packs and screening categories rest
on, as versioned data (`compliance/library/*.yaml`), linked both ways and searchable in Chinese and English.

A rule pack's source line cites entries with a trailing `[library: ID, ...]` (the pack's own loader keeps the
line as text; `split_source` reads it back), a screening category with `cites: [ID, ...]` in categories.yaml.
An entry names the rules it backs (receipt check names or pack rule keys), so a receipt line links to the
entries its pack cites for that rule (`Library.for_check`). Loading refuses a citation that names no
entry and a pack whose version the library does not document: a pack changed without its library fails here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compliance.rulepack import PACK_DIR, load_packs

LIBRARY_DIR = Path(__file__).parent / "library"
CATEGORIES_FILE = Path(__file__).parent / "lexicons" / "categories.yaml"
INDEX = "library.yaml"
_CITATION = re.compile(r"\s*\[library:\s*([^\]]*)\]\s*$")
_ID = re.compile(r"[a-z][a-z0-9]*(?:[.-][A-Za-z0-9]+)*")
_EFFECTIVE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")  # a year alone where the text gives no day
_ENTRY_KEYS = {"id", "jurisdiction", "citation", "title", "issuer", "effective", "source", "original", "kind", "text",
               "rules"}
# Weights of a query term found in each part of an entry: a citation or rule name is the surest hit.
_WEIGHTS = (("key", 3), ("title", 2), ("text", 1))


class LibraryError(ValueError):
    """A library file that is malformed, a citation that names no entry, or a pack the library does not cover."""


@dataclass(frozen=True)
class Bilingual:
    zh: str
    en: str

    def pick(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Entry:
    id: str
    jurisdiction: str
    citation: str
    title: Bilingual
    issuer: Bilingual
    effective: str  # YYYY-MM-DD, or YYYY-MM / YYYY where that is all the text says
    source: str  # where the public text is published
    original: str  # "zh" | "en": the language of the authoritative text; the other is ours
    kind: str  # "excerpt" (the text, quoted or closely paraphrased) | "summary"
    text: Bilingual
    rules: tuple[str, ...]  # receipt check names or pack rule keys the entry backs


@dataclass(frozen=True)
class PackLine:
    """One source line of a rule pack: its text without the citation, and the entries it cites."""

    pack: str
    text: str
    cites: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    version: str
    pack_versions: dict[str, str]  # pack -> the version of it this library documents
    entries: dict[str, Entry]  # in file order
    pack_lines: tuple[PackLine, ...]
    category_cites: dict[str, tuple[str, ...]]  # screening category -> entry ids
    parents: dict[str, str]  # pack -> the pack it extends

    def documents(self, pack: str, version: str) -> bool:
        """Whether this library documents `version` of `pack` (a campaign's tightened "+campaign" version counts
        as its pack's)."""
        return self.pack_versions.get(pack) == version.split("+", 1)[0]

    def lines_of(self, pack: str) -> list[PackLine]:
        """The pack's source lines, then those of the packs it extends."""
        found: list[PackLine] = []
        name: str | None = pack
        while name is not None:
            found.extend(line for line in self.pack_lines if line.pack == name)
            name = self.parents.get(name)
        return found

    def for_check(self, pack: str, rule: str) -> list[Entry]:
        """The entries `pack` (or a pack it extends) cites that back `rule`: a receipt line's links."""
        ids = dict.fromkeys(entry_id for line in self.lines_of(pack) for entry_id in line.cites)
        return [self.entries[entry_id] for entry_id in ids if rule in self.entries[entry_id].rules]

    def for_category(self, category: str) -> list[Entry]:
        return [self.entries[entry_id] for entry_id in self.category_cites.get(category, ())]

    def cited_by(self, entry_id: str) -> tuple[list[PackLine], list[str]]:
        """The pack lines and the screening categories that cite the entry."""
        return ([line for line in self.pack_lines if entry_id in line.cites],
                [name for name, cites in self.category_cites.items() if entry_id in cites])

    def search(self, query: str) -> list[Entry]:
        """Entries holding every word of `query` (in either language, in the id, citation, rule or category names,
        title, issuer or text), best first; every entry for an empty query. Chinese needs no spaces: a word is
        matched as a substring, full- and half-width forms alike."""
        terms = fold(query).split()
        if not terms:
            return list(self.entries.values())
        scored = []
        for order, entry in enumerate(self.entries.values()):
            parts = _searchable(entry, self.cited_by(entry.id)[1])
            score = 0
            for term in terms:
                weight = max((w for part, w in _WEIGHTS if term in parts[part]), default=0)
                if not weight:
                    break
                score += weight
            else:
                scored.append((-score, order, entry))
        return [entry for _, _, entry in sorted(scored, key=lambda row: row[:2])]


def fold(text: str) -> str:
    """Text as search compares it: NFKC (full-width letters and digits to half-width), case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def _searchable(entry: Entry, categories: list[str]) -> dict[str, str]:
    return {"key": fold(" ".join((entry.id, entry.citation, *entry.rules, *categories))),
            "title": fold(" ".join((entry.title.zh, entry.title.en, entry.issuer.zh, entry.issuer.en))),
            "text": fold(" ".join((entry.text.zh, entry.text.en)))}


def split_source(line: str) -> tuple[str, tuple[str, ...]]:
    """A pack source line as (its text, the entry ids its trailing `[library: ...]` cites)."""
    found = _CITATION.search(line)
    if found is None:
        return line, ()
    ids = tuple(part.strip() for part in found.group(1).split(",") if part.strip())
    return line[:found.start()], ids


def _bilingual(where: str, raw: Any) -> Bilingual:
    if not isinstance(raw, dict) or set(raw) != {"zh", "en"} or not all(isinstance(v, str) and v.strip()
                                                                        for v in raw.values()):
        raise LibraryError(f"{where} must be {{zh: ..., en: ...}}, both non-empty")
    return Bilingual(raw["zh"].strip(), raw["en"].strip())


def _names(where: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise LibraryError(f"{where} must be a list of names")
    return tuple(raw)


def _entry(where: str, raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise LibraryError(f"{where}: an entry must be a mapping")
    entry_id = str(raw.get("id", ""))
    where = f"{where}: {entry_id or '(no id)'}"
    if not _ID.fullmatch(entry_id):
        raise LibraryError(f"{where}: id must be lower-case words joined by '.' or '-'")
    unknown, missing = sorted(set(raw) - _ENTRY_KEYS), sorted(_ENTRY_KEYS - {"rules"} - set(raw))
    if unknown or missing:
        raise LibraryError(f"{where}: unknown key(s) {unknown}, missing {missing}")
    effective = str(raw["effective"])
    if not _EFFECTIVE.fullmatch(effective):
        raise LibraryError(f"{where}: effective must be YYYY-MM-DD (or YYYY-MM, YYYY)")
    if raw["original"] not in ("zh", "en") or raw["kind"] not in ("excerpt", "summary"):
        raise LibraryError(f"{where}: original must be zh or en, kind excerpt or summary")
    if not str(raw["source"]).startswith(("https://", "http://")):
        raise LibraryError(f"{where}: source must be the URL of the public text")
    return Entry(id=entry_id, jurisdiction=str(raw["jurisdiction"]), citation=str(raw["citation"]),
                 title=_bilingual(f"{where}: title", raw["title"]), issuer=_bilingual(f"{where}: issuer", raw["issuer"]),
                 effective=effective, source=str(raw["source"]), original=raw["original"], kind=raw["kind"],
                 text=_bilingual(f"{where}: text", raw["text"]), rules=_names(f"{where}: rules", raw.get("rules")))


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LibraryError(f"{path.name}: {error}") from None
    if not isinstance(data, dict):
        raise LibraryError(f"{path.name}: not a mapping")
    return data


def _parents(packs_dir: Path) -> dict[str, str]:
    """pack -> the pack it extends (`RulePack` keeps the merged rules, not the lineage)."""
    return {path.stem: str(data["extends"]) for path in sorted(packs_dir.glob("*.yaml"))
            if (data := _yaml(path)).get("extends")}


def load_library(directory: Path = LIBRARY_DIR, packs_dir: Path = PACK_DIR,
                 categories_file: Path = CATEGORIES_FILE) -> Library:
    """The library in `directory`, its citations from the packs and categories resolved and checked."""
    index = _yaml(directory / INDEX)
    if not index.get("version") or not isinstance(index.get("packs"), dict):
        raise LibraryError(f"{INDEX}: needs 'version' and 'packs' ({{pack: version}})")
    entries: dict[str, Entry] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == INDEX:
            continue
        for raw in _yaml(path).get("entries") or []:
            entry = _entry(path.name, raw)
            if entry.id in entries:
                raise LibraryError(f"{path.name}: id {entry.id!r} is used twice")
            entries[entry.id] = entry
    pack_versions = {str(name): str(version) for name, version in index["packs"].items()}
    lines: list[PackLine] = []
    for name, pack in load_packs(packs_dir).items():
        if pack_versions.get(name) != pack.version:
            raise LibraryError(f"pack {name} is version {pack.version}; library {index['version']} documents "
                               f"{pack_versions.get(name, 'no version of it')}: review its entries, then {INDEX}")
        for source in pack.sources:
            text, cites = split_source(source)
            lines.append(PackLine(name, text, cites))
    categories = {str(name): _names(f"categories.yaml: {name}: cites", body.get("cites"))
                  for name, body in (_yaml(categories_file).get("categories") or {}).items()}
    cited = [(f"pack {line.pack}: {line.text!r}", line.cites) for line in lines] + \
        [(f"category {name}", cites) for name, cites in categories.items()]
    unknown = [f"{where} cites {entry_id!r}" for where, cites in cited for entry_id in cites if entry_id not in entries]
    if unknown:
        raise LibraryError("citations naming no library entry: " + "; ".join(unknown))
    return Library(version=str(index["version"]), pack_versions=pack_versions, entries=entries,
                   pack_lines=tuple(lines), category_cites=categories, parents=_parents(packs_dir))
