"""The agent's scripts (`campaigns/scripts.yaml`): the wording of each disclosure, the script of each collection
stage by days past due, and how a promise is read back, in Chinese and English.

Pure: YAML in, frozen values out. Which disclosures a call must carry is the compliance lexicon's
(`compliance/lexicons/disclosures.yaml`); this file only words them, so the desk and the screening that checks
the recordings never disagree on what was required.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCRIPTS = Path(__file__).parent / "scripts.yaml"
LANGUAGES = ("zh", "en")


class ScriptError(ValueError):
    """The scripts file is malformed; the message names the place."""


@dataclass(frozen=True)
class Bilingual:
    zh: str
    en: str

    def filled(self, **values: str) -> Bilingual:
        """Placeholders filled; one the text does not use is ignored, one it uses but is not given stays."""
        return Bilingual(*(text.format_map(_Keep(values)) for text in (self.zh, self.en)))

    def json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Stage:
    name: str
    from_days: int
    title: Bilingual
    lines: tuple[Bilingual, ...]


@dataclass(frozen=True)
class Scripts:
    version: str
    disclosures: dict[str, Bilingual]
    stages: tuple[Stage, ...]  # by from_days, the first from 0
    read_back: Bilingual

    def stage(self, days_past_due: int) -> Stage:
        """The stage a case `days_past_due` days behind is in."""
        return [s for s in self.stages if s.from_days <= max(0, days_past_due)][-1]

    def with_lines(self, overrides: dict[tuple[str, str], tuple[str, ...]]) -> Scripts:
        """These scripts with some stages' lines in one language replaced: `(stage, language) -> lines`, from the
        saved script templates (`campaigns.templates_store`). Lines pair up by position; where one language has
        more lines than the other, the other's side of the extra lines is empty."""
        stages = []
        for stage in self.stages:
            sides = {lang: overrides.get((stage.name, lang), tuple(getattr(line, lang) for line in stage.lines))
                     for lang in LANGUAGES}
            count = max(len(side) for side in sides.values())
            lines = tuple(Bilingual(*(sides[lang][n] if n < len(sides[lang]) else "" for lang in LANGUAGES))
                          for n in range(count))
            stages.append(Stage(stage.name, stage.from_days, stage.title, lines))
        return Scripts(self.version, self.disclosures, tuple(stages), self.read_back)


def _bilingual(where: str, raw: Any) -> Bilingual:
    if not isinstance(raw, dict) or set(raw) != set(LANGUAGES) or not all(isinstance(raw[k], str) for k in LANGUAGES):
        raise ScriptError(f"{where}: expected {{zh: text, en: text}}")
    return Bilingual(raw["zh"], raw["en"])


def _stage(where: str, raw: Any) -> Stage:
    if not isinstance(raw, dict) or not isinstance(raw.get("from_days"), int) or not isinstance(raw.get("name"), str):
        raise ScriptError(f"{where}: a stage needs name and from_days (a whole number)")
    lines = raw.get("lines")
    if not isinstance(lines, dict) or set(lines) != set(LANGUAGES) or len(lines["zh"]) != len(lines["en"]) \
            or not lines["zh"]:
        raise ScriptError(f"{where}.lines: as many zh lines as en lines, at least one")
    return Stage(raw["name"], raw["from_days"], _bilingual(f"{where}.title", raw.get("title")),
                 tuple(_bilingual(f"{where}.lines", {"zh": zh, "en": en}) for zh, en in zip(lines["zh"], lines["en"])))


def parse_scripts(data: Any, where: str = SCRIPTS.name) -> Scripts:
    if not isinstance(data, dict) or not data.get("version"):
        raise ScriptError(f"{where}: a mapping with a version")
    disclosures = data.get("disclosures") or {}
    stages = tuple(_stage(f"{where}: stages[{n}]", raw) for n, raw in enumerate(data.get("stages") or ()))
    starts = [stage.from_days for stage in stages]
    if not starts or starts[0] != 0 or starts != sorted(set(starts)):
        raise ScriptError(f"{where}: stages must start at 0 days and rise")
    return Scripts(str(data["version"]),
                   {name: _bilingual(f"{where}: disclosures.{name}", raw) for name, raw in disclosures.items()},
                   stages, _bilingual(f"{where}: read_back", data.get("read_back")))


@cache
def load_scripts(path: Path = SCRIPTS) -> Scripts:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScriptError(f"{path.name}: {error}") from None
    return parse_scripts(data, path.name)
