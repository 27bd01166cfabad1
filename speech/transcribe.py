"""Transcription of stereo call recordings with faster-whisper, one channel per speaker, on CPU.

A recording is stereo: left the debtor, right the agent or our prompts (`dialer/media/recorder.py`). Each
channel is transcribed on its own, so a segment's speaker is the channel it came from, never a guess; a
silent channel is skipped. Segments of both come back in one list ordered by start time.

Settings, all named below: the campaign's language is fixed (never detected), int8 on CPU with
`threads` intra-op threads and one worker, greedy decoding, Silero VAD before decoding (silence is where
Whisper hallucinates; its threshold is lowered to 0.25 because at 16 kHz it scores telephone-band speech
low: 0.50 at most on a clip it scores 0.99 wide-band), and guards against repetition loops: no
conditioning on the previous window's text (a loop cannot feed itself), a compression-ratio threshold
that re-decodes a repetitive window at a higher temperature, no repeated 5-token n-gram inside a window,
and skipping the silence before a segment that looks like a hallucination. The model directory comes
from `speech.models.find_model` and is never downloaded; an English-only model refuses other languages.
Mandarin ("zh") gets the multilingual Whisper base, an initial prompt in simplified Chinese in the register
of a collection call (INITIAL_PROMPTS), and its output turned into simplified characters (OpenCC), so the
screening lexicons and the CER see one script. Whisper echoes the prompt over short or garbled speech; a segment
that repeats it faster than anyone speaks, or copies a long stretch of it, is heard again without it
(`_without_echo`).

Segments are ours, not Whisper's: VAD glues the speech together before decoding, so a Whisper segment can
span a minute of the other side talking. Word timestamps, mapped back to the recording, regroup the words
into segments split at every pause of SPLIT_GAP_S or more (`_Turns`).

The 8 kHz channels reach Whisper's 16 kHz through a half-band windowed-sinc filter (`upsample_2x`: flat
to 3.4 kHz, more than 80 dB down from 4.6 kHz); WAVs at other rates or widths go through libswresample
(PyAV). `telephone_band` puts 16 kHz test speech through what a call does to it (300-3400 Hz, 8 kHz,
G.711 mu-law), to measure the recogniser on audio like ours.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import numpy as np

from audio import g711
from speech.models import ModelNotFound, find_model

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

Speaker = Literal["debtor", "agent"]
SPEAKERS: tuple[Speaker, Speaker] = ("debtor", "agent")  # left channel, right channel
WHISPER_RATE = 16000

BEAM_SIZE = 1  # greedy: on the en-real clips beams of 2 and 5 were no more accurate and took longer
TEMPERATURES = (0.0, 0.2, 0.4, 0.6)  # fallbacks when a window is repetitive or unlikely
COMPRESSION_RATIO_THRESHOLD = 2.4  # gzip ratio above which a window's text is taken for a loop
LOG_PROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
NO_REPEAT_NGRAM_SIZE = 5  # tokens; short enough to break loops, long enough for "of clubs ... of clubs"
HALLUCINATION_SILENCE_S = 2.0  # skip a silence this long before a segment that looks like a hallucination
SPLIT_GAP_S = 1.0  # a pause this long between two words ends a segment
LONG_SEGMENT_S = 15.0  # past this, a segment ends where Whisper's does
# Per language: a prompt in the register of our calls, which also steers Whisper to simplified characters and
# punctuation (without it, base writes Mandarin in traditional characters about as often as simplified).
INITIAL_PROMPTS = {"zh": "您好，这里是催收中心，关于您的欠款和还款日期，我们核对一下。"}
PROMPT_ECHO_CHARS = 6  # a fast segment repeating this many characters of the prompt in a row is heard again
PROMPT_COPY_CHARS = 12  # any segment repeating this many is: no sentence of a call shares so much with it
PROMPT_SHARE = 2 / 3  # so is one that is mostly the prompt's words (at least PROMPT_ECHO_CHARS of them), at any pace
ECHO_PAD_S = 0.5  # audio kept around such a segment when it is heard again
# Faster than this is no speech but the prompt echoed: fast Mandarin is 6-7 syllables (characters) a second
MAX_CHARS_PER_S = 10.0
FRAME_S = 0.02  # the shortest span a segment is taken to have
VAD_PARAMETERS = {"threshold": 0.25, "min_silence_duration_ms": 500, "speech_pad_ms": 300}
SILENT_PEAK = 100 / 32768  # a channel never louder than this (about -50 dBFS) is not transcribed

HALF_BAND_TAPS = 32  # per side; the interpolation filter has 2 * HALF_BAND_TAPS non-zero odd taps
TELEPHONE_LOW_HZ, TELEPHONE_HIGH_HZ = 300.0, 3400.0


@dataclass(frozen=True)
class Segment:
    speaker: Speaker
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Transcript:
    language: str
    duration_s: float
    segments: tuple[Segment, ...]

    def of(self, speaker: Speaker) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.speaker == speaker)

    def counts(self) -> dict[str, int]:
        """Segments per speaker, every speaker present (0 for a silent side)."""
        return {speaker: len(self.of(speaker)) for speaker in SPEAKERS}

    def text(self, speaker: Speaker | None = None) -> str:
        return " ".join(s.text for s in self.segments if speaker is None or s.speaker == speaker)


Progress = Callable[[float], None]  # fraction of the recording done, 0..1


class Transcriber:
    """One faster-whisper model, loaded once, for one language; not shared between threads."""

    def __init__(self, language: str, model_path: Path | None = None, threads: int = 1, *,
                 beam_size: int = BEAM_SIZE) -> None:
        from faster_whisper import WhisperModel  # heavy (CTranslate2, ONNX Runtime, PyAV): only when used

        self.language, self.threads, self.beam_size = language, threads, beam_size
        self.model_path = find_model("whisper", language, model_path)
        self.model: WhisperModel = WhisperModel(str(self.model_path), device="cpu", compute_type="int8",
                                                cpu_threads=threads, num_workers=1, local_files_only=True)
        if language != "en" and not self.model.model.is_multilingual:
            raise ModelNotFound(f"the whisper model at {self.model_path} is English-only; language {language!r} "
                                f"needs a multilingual model (set $DUNLINE_WHISPER_MODEL_{language.upper()})")

    @property
    def engine(self) -> dict[str, Any]:
        """What produces the transcripts, to store with them."""
        folder = self.model_path  # an installed package's folder is called `model`: name the package
        return {"engine": "faster-whisper", "model": folder.parent.name if folder.name == "model" else folder.name,
                "compute_type": "int8", "beam_size": self.beam_size}

    def transcribe_stereo(self, path: Path | str | BinaryIO, progress: Progress | None = None) -> Transcript:
        """Both channels of a stereo recording (a path, or a seekable file such as a sealed recording's
        reader), as speaker-labelled segments ordered by start time."""
        channels, rate = read_stereo(path)
        duration = len(channels[0]) / rate if rate else 0.0
        segments: list[Segment] = []
        for index, (speaker, samples) in enumerate(zip(SPEAKERS, channels, strict=True)):
            def channel_progress(fraction: float, index: int = index) -> None:
                if progress is not None:
                    progress((index + fraction) / len(SPEAKERS))

            segments += self.transcribe_channel(samples, rate, speaker, channel_progress)
        if progress is not None:
            progress(1.0)
        segments.sort(key=lambda s: (s.start_s, s.end_s, SPEAKERS.index(s.speaker)))
        return Transcript(self.language, round(duration, 3), tuple(segments))

    def transcribe_channel(self, samples: np.ndarray, rate: int, speaker: Speaker,
                           progress: Progress | None = None) -> list[Segment]:
        """One channel (int16 or float in [-1, 1]) at `rate`, as segments of `speaker`."""
        audio = to_whisper_rate(samples, rate)
        if not len(audio) or float(np.max(np.abs(audio))) < SILENT_PEAK:
            return []
        prompt = INITIAL_PROMPTS.get(self.language)
        segments = self._decode(audio, speaker, prompt, progress)
        if prompt is None:
            return segments
        return [heard for segment in segments if (heard := self._without_echo(audio, segment, prompt)) is not None]

    def _decode(self, audio: np.ndarray, speaker: Speaker, prompt: str | None,
                progress: Progress | None = None) -> list[Segment]:
        """Segments of 16 kHz float audio, decoded after `prompt`."""
        duration = len(audio) / WHISPER_RATE
        found, _info = self.model.transcribe(
            audio, language=self.language, task="transcribe", beam_size=self.beam_size,
            temperature=list(TEMPERATURES), compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
            log_prob_threshold=LOG_PROB_THRESHOLD, no_speech_threshold=NO_SPEECH_THRESHOLD,
            condition_on_previous_text=False, no_repeat_ngram_size=NO_REPEAT_NGRAM_SIZE,
            vad_filter=True, vad_parameters=dict(VAD_PARAMETERS), without_timestamps=False,
            word_timestamps=True, hallucination_silence_threshold=HALLUCINATION_SILENCE_S,
            initial_prompt=prompt,
        )
        turns = _Turns(speaker, simplified if self.language == "zh" else None)
        for segment in found:  # a generator: decoding happens as it is read
            turns.add(segment.words or [])
            if progress is not None:
                progress(min(1.0, segment.end / duration))
        return turns.close()

    def _without_echo(self, audio: np.ndarray, segment: Segment, prompt: str) -> Segment | None:
        """`segment`, or, when it `echoes` the initial prompt, what its stretch of audio says when heard without
        the prompt (None: nothing)."""
        if not echoes(segment.text, max(segment.end_s - segment.start_s, FRAME_S), prompt):
            return segment
        start = max(0, round((segment.start_s - ECHO_PAD_S) * WHISPER_RATE))
        heard = self._decode(audio[start:round((segment.end_s + ECHO_PAD_S) * WHISPER_RATE)], segment.speaker, None)
        text = "".join(s.text for s in heard)
        return Segment(segment.speaker, segment.start_s, segment.end_s, text) if text else None


class _Turns:
    """Whisper's segments regrouped by pauses: words said without a pause of SPLIT_GAP_S are one segment.

    Speech is cut out of the silence (VAD) before decoding, so one Whisper segment may hold words said
    seconds or minutes apart, and one sentence may be cut in two Whisper segments; word timestamps are
    mapped back to the recording, a pause splits, and a segment past LONG_SEGMENT_S ends with its Whisper
    segment (a phrase end) so a monologue is not one block."""

    def __init__(self, speaker: Speaker, convert: Callable[[str], str] | None = None) -> None:
        self.speaker, self.convert = speaker, convert
        self.segments: list[Segment] = []
        self.words: list[Any] = []

    def add(self, words: list[Any]) -> None:
        if self.words and self.words[-1].end - self.words[0].start >= LONG_SEGMENT_S:
            self._flush()
        for word in words:
            if self.words and word.start - self.words[-1].end >= SPLIT_GAP_S:
                self._flush()
            self.words.append(word)

    def close(self) -> list[Segment]:
        self._flush()
        return self.segments

    def _flush(self) -> None:
        if self.words:
            segment = _segment(self.speaker, self.words)
            if self.convert is not None:
                segment = Segment(segment.speaker, segment.start_s, segment.end_s, self.convert(segment.text))
            if segment.text:
                self.segments.append(segment)
        self.words = []


def echoes(text: str, spoken_s: float, prompt: str) -> bool:
    """Whether a segment's `text`, heard over `spoken_s` seconds, is Whisper continuing its initial prompt rather
    than speech. Whisper does so where the speech is short or unclear: "嗯" (0.4 s voiced) came back as
    "请您您您您您的欠款和还款日期，我们核对一下。", 20 characters in 1.0 s; "好的" as the whole prompt, 27 in 0.7 s,
    and as its last clause alone, "我们核对一下。", at a speaking pace. Speech that does say the prompt's words
    keeps them ("这里是催收中心，请您今天还款。" shares 7 of its 14): it is slower (2.6-2.9 characters a second
    measured on espeak-ng's Mandarin) and says more than the prompt, and without the prompt the base model hears
    telephone-band Mandarin much worse, so it is not re-heard unless it copies PROMPT_COPY_CHARS of the prompt
    (over 4 s of garbled speech the screening bench got "请您您您您您的欠款和还款日期，我们核对一下。", 14 in a
    row, at a speaking pace)."""
    run, letters = echoed(text, prompt), len(_letters(text))
    if run < PROMPT_ECHO_CHARS:
        return False
    return letters / spoken_s > MAX_CHARS_PER_S or run >= PROMPT_COPY_CHARS or run >= PROMPT_SHARE * letters


def echoed(text: str, prompt: str) -> int:
    """The most consecutive characters of `prompt` that `text` repeats, punctuation and spaces aside."""
    bare, source = _letters(text), _letters(prompt)
    run = 0
    while run < len(bare) and any(bare[i:i + run + 1] in source for i in range(len(bare) - run)):
        run += 1
    return run


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def simplified(text: str) -> str:
    """Chinese text in simplified characters (OpenCC's traditional-to-simplified table)."""
    from speech.wer import to_simplified

    return to_simplified(text)


def _segment(speaker: Speaker, words: list[Any]) -> Segment:
    text = "".join(w.word for w in words).strip()
    return Segment(speaker, round(float(words[0].start), 3), round(float(words[-1].end), 3), text)


def read_stereo(path: Path | str | BinaryIO) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """(left, right) of a stereo WAV (a path or a seekable binary file) as float32 in [-1, 1], and their rate: as
    recorded when 16-bit at 8 or 16 kHz (ours), else resampled to 16 kHz. ValueError when the file is not a
    stereo PCM WAV."""
    named = isinstance(path, (str, Path))
    try:
        with wave.open(str(path) if named else path, "rb") as source:
            channels, width, rate = source.getnchannels(), source.getsampwidth(), source.getframerate()
            ours = width == 2 and rate in (8000, WHISPER_RATE)
            raw = source.readframes(source.getnframes()) if ours and channels == 2 else b""
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{path}: not a PCM WAV file ({error})") from None
    if channels != 2:
        raise ValueError(f"{path}: {channels} channel(s); a call recording is stereo (left debtor, right agent)")
    if ours:
        frames = np.frombuffer(raw, dtype="<i2").reshape(-1, 2).astype(np.float32) / 32768.0
        return (frames[:, 0].copy(), frames[:, 1].copy()), rate
    from faster_whisper import decode_audio  # other rates and widths: libswresample

    if not named:
        path.seek(0)
    left, right = decode_audio(str(path) if named else path, sampling_rate=WHISPER_RATE, split_stereo=True)
    return (left, right), WHISPER_RATE


def to_whisper_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono samples (int16, or float in [-1, 1]) as float32 at 16 kHz; only 8 and 16 kHz are accepted."""
    audio = samples.astype(np.float32) / 32768.0 if samples.dtype == np.int16 else samples.astype(np.float32)
    if rate == WHISPER_RATE:
        return audio
    if rate == WHISPER_RATE // 2:
        return upsample_2x(audio)
    raise ValueError(f"{rate} Hz: expected 8000 or 16000 Hz audio")


def _half_band_odd_taps(taps: int = HALF_BAND_TAPS) -> np.ndarray:
    """The odd taps h[2k+1], k = -taps..taps-1, of a Kaiser-windowed sinc low-pass at a quarter of the
    output rate; the even taps of such a half-band filter are 0 but the centre, so even outputs are the inputs."""
    n = 2 * np.arange(-taps, taps) + 1
    window = np.kaiser(4 * taps + 1, 8.0)[n + 2 * taps]
    return (np.sinc(n / 2) * window).astype(np.float32)


_ODD_TAPS = _half_band_odd_taps()


def upsample_2x(audio: np.ndarray) -> np.ndarray:
    """float32 audio at twice its rate (polyphase half-band interpolation)."""
    if not len(audio):
        return audio.astype(np.float32)
    odd = np.convolve(audio, _ODD_TAPS)[HALF_BAND_TAPS:HALF_BAND_TAPS + len(audio)]
    out = np.empty(2 * len(audio), dtype=np.float32)
    out[0::2], out[1::2] = audio, odd
    return out


def telephone_band(samples: np.ndarray, rate: int = WHISPER_RATE, law: str = "ulaw") -> np.ndarray:
    """Wide-band speech as a call carries it: band-pass 300-3400 Hz (4th-order Butterworth magnitudes,
    zero phase, nothing at or above 4 kHz), 8 kHz, then a G.711 round trip. Returns int16 at 8 kHz."""
    audio = samples.astype(np.float64) / (32768.0 if samples.dtype == np.int16 else 1.0)
    if rate not in (8000, WHISPER_RATE):
        raise ValueError(f"{rate} Hz: expected 8000 or 16000 Hz audio")
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(len(audio), 1.0 / rate)
    with np.errstate(divide="ignore"):
        high_pass = 1.0 / np.sqrt(1.0 + (TELEPHONE_LOW_HZ / np.maximum(freqs, 1e-9)) ** 8)
    low_pass = 1.0 / np.sqrt(1.0 + (freqs / TELEPHONE_HIGH_HZ) ** 8)
    spectrum *= high_pass * low_pass * (freqs < 4000.0)
    narrow = np.fft.irfft(spectrum, len(audio))
    if rate == WHISPER_RATE:
        narrow = narrow[::2]  # nothing is left above 4 kHz to alias
    pcm = np.clip(np.round(narrow * 32768.0), -32768, 32767).astype(np.int16)
    return g711.decode(g711.encode(pcm, law), law)
