"""Spoken answers for the IVR's `recognise` nodes: vosk in grammar mode on the caller's audio, parsed to a
value; anything not understood (out of grammar, unsure, silence) is None, so the node asks again (and then
takes its failure link: the keypad). Mandarin, which has no vosk model installable here, is heard by Whisper
held to the answer's vocabulary (speech/whisper_answers.py). Models load and decode in threads, never on the
event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from dialer.leg import CallLeg
from speech import grammars, whisper_answers
from speech.recognizer import open_recognizer, recognise


async def hear_answer(frames: AsyncIterator[np.ndarray], grammar: str, language: str,
                      timeout_s: float) -> Any | None:
    kind = grammars.Kind(grammar)
    if language in whisper_answers.LANGUAGES:
        return await whisper_answers.hear_answer(frames, kind, language, timeout_s)
    # Off the event loop: the first answer in a language loads its model (seconds), and the loop drives every
    # call's 20 ms media clock.
    recognizer = await asyncio.to_thread(open_recognizer, language, grammar=grammars.phrases(kind, language),
                                         max_silence_s=timeout_s, max_duration_s=timeout_s + 10.0)
    utterance = await recognise(frames, recognizer)
    if not utterance.understood:
        return None
    return grammars.parse(kind, language, utterance.text)


async def spoken_listener(leg: CallLeg, grammar: str, language: str, timeout_s: float) -> Any | None:
    """The `Listener` a `CallChannel` takes: vosk, or Whisper for Mandarin."""
    return await hear_answer(leg.media.pcm(), grammar, language, timeout_s)
