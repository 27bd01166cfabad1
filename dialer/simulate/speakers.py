"""What the simulated floor's people say, per language: a debtor's greeting on answering, and an agent bot's
speech, polite (identifies itself, the recording notice, a payment plan) or rude (the threat screening must
find). English people keep the real-speech greeting of `voices/`; the rest is rendered by `speech.tts`
(espeak-ng: Mandarin with its pinyin voice), once per text into the prompt cache.

The Mandarin lines were chosen for what Whisper base hears of espeak-ng's Mandarin through the telephone
band, which is little: of 16 threats tried, most came back unreadable (警察 heard as 天然, 坐牢 as 做了). The
rude line below came back flagged (threat, abuse, disclosure to the debtor's employer) with 0, 0.3 and 0.7 s
of silence before it, through G.711: "我会打电话给你的领导合同时,他们都知道你前前不爱,你给我的承诺,有你
好看的". Synthetic speech: it proves the Mandarin path of a call, not the recogniser's accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.wav import read_pcm
from dialer.simulate.pstn import VOICES
from speech.tts import PromptRenderer

AFTER_SPEECH = np.zeros(4000, np.int16)  # half a second of the line's quiet after an agent's speech


@dataclass(frozen=True)
class Lines:
    greeting: str | None  # None: the recorded hello of `voices/` (real speech, short enough to pass for a person)
    polite: str
    rude: str
    reply: str | None = None  # what the person says to the agent after the greeting (None: nothing)


LINES = {
    "en": Lines(None,
                "Hello, this is Amy from Dunline Credit Services. This call is recorded. This is an attempt to "
                "collect a debt, and any information obtained will be used for that purpose. "
                "Could we agree on a payment plan that works for you?",
                "Listen, if you do not pay today the police will come to your house and arrest you."),
    "zh": Lines("喂，你好。",
                "您好，我是催收中心的小王，本次通话会被录音。我们能商量一个还款计划吗？",
                "我会打电话给你的领导和同事，让他们都知道你欠钱不还。你给我等着，有你好看的。",
                # The greeting alone (1.5 s, as short as a person's, or AMD takes it for a machine) is too little
                # for Whisper base: the same audio came back as "各位,你好", "我以为你好" or nothing. This
                # sentence came back as Chinese 3 times in 3 after it, through G.711.
                "我知道了，我下个月还钱。"),
}


def lines_of(language: str) -> Lines:
    try:
        return LINES[language]
    except KeyError:
        raise ValueError(f"the simulated floor speaks {', '.join(LINES)}, not {language!r}") from None


def greeting(renderer: PromptRenderer, language: str) -> Path:
    """The WAV a simulated person answers with."""
    text = lines_of(language).greeting
    return VOICES / "debtor-hello.wav" if text is None else renderer.render(text, language)


def reply(renderer: PromptRenderer, language: str) -> Path | None:
    """The WAV a simulated person says to the agent after the greeting (None: they only listen)."""
    text = lines_of(language).reply
    return None if text is None else renderer.render(text, language)


def agent_speeches(renderer: PromptRenderer, language: str, agents: int, rude: int) -> list[np.ndarray]:
    """What each of `agents` bots says to every debtor bridged to it: the first `rude` threaten."""
    lines = lines_of(language)
    said = {line: np.concatenate([read_pcm(renderer.render(line, language)), AFTER_SPEECH])
            for line in (lines.rude, lines.polite)}
    return [said[lines.rude] if n < rude else said[lines.polite] for n in range(agents)]
