"""Propensity models on disk: each version a directory under `<data_dir>/analytics/propensity/` holding the
model, its metadata and its evaluation as JSON; versions are numbered and never overwritten."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from campaigns.analytics.features import FEATURES
from campaigns.analytics.propensity import Model


def root(data_dir: Path) -> Path:
    return data_dir / "analytics" / "propensity"


def save(data_dir: Path, model: Model, evaluation: dict[str, object], as_of: date) -> Path:
    base = root(data_dir)
    base.mkdir(parents=True, exist_ok=True)
    version = 1 + max((int(p.name) for p in base.iterdir() if p.name.isdigit()), default=0)
    model.version = str(version)
    path = base / f"{version:04d}"
    path.mkdir()
    (path / "model.json").write_text(json.dumps(asdict(model)))
    (path / "metadata.json").write_text(json.dumps({"version": version, "as_of": as_of.isoformat(),
                                                    "features": model.features, "kind": "logistic"}))
    (path / "evaluation.json").write_text(json.dumps(evaluation, indent=1))
    return path


def latest(data_dir: Path) -> Path:
    """The newest version; FileNotFoundError when there is none, or when it was trained on other features than
    today's (an upgrade changed them): scored on today's rows it would miss columns, so it is not used until
    `dunline analytics train` makes a new one (the propensity strategy ranks without a model meanwhile)."""
    versions = sorted(p for p in root(data_dir).glob("[0-9]*") if p.is_dir()) if root(data_dir).exists() else []
    if not versions:
        raise FileNotFoundError(f"no propensity model under {root(data_dir)}; run `dunline analytics train` first")
    trained_on = _metadata(versions[-1])["features"]
    if trained_on != list(FEATURES):
        raise FileNotFoundError(f"propensity model {versions[-1].name} was trained on other features "
                                f"({', '.join(sorted(set(trained_on) ^ set(FEATURES)))} differ from this version's); "
                                "run `dunline analytics train`")
    return versions[-1]


def load(path: Path) -> tuple[Model, dict[str, object]]:
    return Model(**json.loads((path / "model.json").read_text())), json.loads((path / "evaluation.json").read_text())


def as_of(path: Path) -> date:
    """The date a saved model's training features were taken at."""
    return date.fromisoformat(_metadata(path)["as_of"])


def _metadata(path: Path) -> dict[str, Any]:
    return json.loads((path / "metadata.json").read_text())
