"""Prompts as 8 kHz mono 16-bit WAV: pyttsx3 on espeak-ng, each text rendered once into a content-addressed
cache, and pre-recorded files that override any prompt by id.

Why a child process per render: `pyttsx3.init()` hands back one cached engine per driver, and its espeak
driver keeps the last `save_to_file` target, so a later utterance on a reused engine lands in the previous
file; its `runAndWait` can also return before espeak's own thread has written the file, and it prints
"Audio saved to …" on stdout. A fresh interpreter per render has a fresh engine, waits for the
finished-utterance event, sends its stdout nowhere and its stderr into the error message. A render takes
about 0.2 s and happens once per text.

Why `sit/cmn-latn-pinyin` for Chinese: in espeak-ng 1.51 the plain `cmn` voice reads its own pinyin aloud in
English ("hao two" for 好, espeak-ng issue #1236); the pinyin voice speaks Mandarin. Latin letters in a
Chinese prompt are then read as pinyin, so Chinese prompt text should be all Chinese (see `speech.spoken`).

espeak's 22,050 Hz is brought to 8 kHz by `read_pcm`'s linear interpolation. A low-pass before decimation
was measured and left out: whisper tiny.en made more word errors on it (13-25 against 10-12 of 66 words).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from audio.wav import read_pcm, write_pcm

ENGINE = "pyttsx3/espeak-ng"
VOICES: Mapping[str, str] = {"en": "gmw/en-us", "zh": "sit/cmn-latn-pinyin"}
DEFAULT_RATE = 150  # words a minute; espeak's default 175 is hurried over a phone line
RENDER_TIMEOUT_S = 60.0
_UNAVAILABLE = 3  # the child's exit status when pyttsx3, espeak-ng or the voice is missing
_PROMPT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# Runs in a fresh interpreter: voice, rate and target WAV path as arguments, the text as UTF-8 on stdin.
_CHILD = """
import sys
import threading
voice, rate, target = sys.argv[1:]
try:
    import pyttsx3
    engine = pyttsx3.init("espeak")
except Exception as error:
    sys.stderr.write(f"pyttsx3 on espeak-ng is not available (install pyttsx3 and espeak-ng): {error}")
    sys.exit(3)
if voice not in {v.id for v in engine.getProperty("voices")}:
    sys.stderr.write(f"espeak-ng voice {voice!r} is not installed (see `espeak-ng --voices`)")
    sys.exit(3)
finished = threading.Event()
engine.connect("finished-utterance", lambda **_: finished.set())
engine.setProperty("voice", voice)
engine.setProperty("rate", int(rate))
engine.save_to_file(sys.stdin.buffer.read().decode("utf-8"), target)
engine.runAndWait()
if not finished.wait(50):
    sys.stderr.write("espeak-ng did not finish the utterance within 50 s")
    sys.exit(1)
"""

Synthesize = Callable[[str, str, int, Path], None]
"""(text, voice, rate, target): write the text spoken by the voice to `target`, a PCM WAV at any rate."""


class TtsError(RuntimeError):
    """A prompt could not be rendered."""


class TtsUnavailable(TtsError):
    """pyttsx3, espeak-ng or a voice is missing; the message names which."""


def synthesize_in_child(text: str, voice: str, rate: int, target: Path) -> None:
    """pyttsx3 on espeak-ng in a short-lived child process (see the module docstring)."""
    try:
        child = subprocess.run([sys.executable, "-c", _CHILD, voice, str(rate), str(target)],
                               input=text.encode("utf-8"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=RENDER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as error:
        raise TtsError(f"espeak-ng took over {RENDER_TIMEOUT_S:.0f} s to render {text!r}") from error
    message = child.stderr.decode("utf-8", "replace").strip()
    if child.returncode == _UNAVAILABLE:
        raise TtsUnavailable(message)
    if child.returncode != 0 or not target.is_file():
        raise TtsError(f"rendering {text!r} with voice {voice} failed (exit {child.returncode}): {message}")


class PromptRenderer:
    """Text to a cached 8 kHz WAV, named by the SHA-256 of (engine, voice, rate, language, text).

    Thread-safe: one lock per cache key, so concurrent callers of one prompt render it once. The file appears
    by atomic rename, so other processes sharing the cache see a whole file or none. Sync: async callers run
    it in a thread."""

    def __init__(self, cache_dir: Path, *, voices: Mapping[str, str] = VOICES, rate: int = DEFAULT_RATE,
                 synthesize: Synthesize = synthesize_in_child) -> None:
        self.cache_dir = cache_dir
        self.voices = dict(voices)
        self.rate = rate
        self._synthesize = synthesize
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def voice(self, language: str) -> str:
        try:
            return self.voices[language]
        except KeyError:
            raise ValueError(f"no voice for language {language!r}; have {', '.join(self.voices)}") from None

    def path_for(self, text: str, language: str) -> Path:
        key = json.dumps([ENGINE, self.voice(language), self.rate, language, text], ensure_ascii=False)
        return self.cache_dir / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()}.wav"

    def render(self, text: str, language: str) -> Path:
        if not text.strip():
            raise ValueError("nothing to say: the prompt text is empty")
        path = self.path_for(text, language)
        if path.is_file():
            return path
        with self._lock_for(path.stem):
            if not path.is_file():
                self._render_to(path, text, self.voice(language))
        return path

    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _render_to(self, path: Path, text: str, voice: str) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache_dir, prefix=".render-") as work:
            raw, staged = Path(work) / "raw.wav", Path(work) / "8k.wav"
            self._synthesize(text, voice, self.rate, raw)
            pcm = read_pcm(raw)
            if not pcm.any():
                raise TtsError(f"voice {voice} rendered silence for {text!r}")
            write_pcm(staged, pcm)
            os.replace(staged, path)


class Prompts:
    """Prompt audio by id: a pre-recorded `<overrides>/<language>/<id>.wav` when there is one (any PCM WAV;
    the player resamples it), else the text rendered by TTS."""

    def __init__(self, renderer: PromptRenderer, overrides: Path | None = None) -> None:
        self.renderer = renderer
        self.overrides = overrides

    def prompt(self, prompt_id: str, text: str, language: str) -> Path:
        if not _PROMPT_ID.fullmatch(prompt_id):
            raise ValueError(f"bad prompt id {prompt_id!r}: letters, digits, '_', '-' and '.' only")
        self.renderer.voice(language)  # an unknown language is an error even when a recording exists
        if self.overrides is not None:
            recorded = self.overrides / language / f"{prompt_id}.wav"
            if recorded.is_file():
                return recorded
        return self.renderer.render(text, language)
