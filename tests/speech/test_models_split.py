"""A model split over several installed packages is joined once into the model cache, and rejoined when
the installed parts change."""

import sys
from pathlib import Path

import pytest

from speech import models


def _package(root: Path, name: str, files: dict[str, bytes]) -> None:
    data = root / name / "data"
    data.mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    for file, content in files.items():
        (data / file).write_bytes(content)


@pytest.fixture
def split_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    _package(site, "split_part_one", {"model.bin.part1": b"AAAA"})
    _package(site, "split_part_two", {"model.bin.part2": b"BB", "config.json": b"{}"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv(models.CACHE_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(models.env_var("whisper", "xx"), raising=False)
    monkeypatch.setitem(models.SPLIT_MODEL_PACKAGES, ("whisper", "xx"),
                        ("joined", (("split_part_one", "data"), ("split_part_two", "data"))))
    return site


def test_parts_are_joined_in_order(split_model: Path, tmp_path: Path) -> None:
    folder = models.find_model("whisper", "xx")
    assert folder == tmp_path / "cache" / "joined"
    assert (folder / "model.bin").read_bytes() == b"AAAABB"
    assert (folder / "config.json").read_bytes() == b"{}"


def test_a_changed_part_is_rejoined(split_model: Path) -> None:
    models.find_model("whisper", "xx")
    (split_model / "split_part_two" / "data" / "model.bin.part2").write_bytes(b"CCC")
    assert (models.find_model("whisper", "xx") / "model.bin").read_bytes() == b"AAAACCC"


def test_a_missing_part_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(models.env_var("whisper", "xx"), raising=False)
    monkeypatch.setitem(models.SPLIT_MODEL_PACKAGES, ("whisper", "xx"),
                        ("joined", (("no_such_part_package", "data"),)))
    with pytest.raises(models.ModelNotFound, match="no_such_part_package"):
        models.find_model("whisper", "xx")
    assert "no_such_part_package" not in sys.modules
