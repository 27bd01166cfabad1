"""The answering-machine detection set: people answering, machines greeting (most with a beep) and dead
air, each heard through several line conditions. Generated from a fixed seed (and sox -R, whose dither is
random otherwise), so every build is the same to the bit, and cached under bench/out/amd/<RECIPE>/ (bump
RECIPE whenever anything here changes, so a stale cache is never scored).

Scenes (8 kHz, before the line):
- human: after 0-1.5 s of silence (picking up, phone to the ear), a short greeting: espeak-ng ("hello?",
  "hello, who is this?", "喂，你好", "你好，哪位", ...) in several voices, pitches and speeds (3-4.5
  syllables/s in both languages), or the first 1-2 s of a real recording (en-real, through sox tempo and
  pitch); in 30% of them a second short utterance after a 1-2 s pause ("hello?" again), then silence:
  the person waits for us.
- machine: after 0-1.2 s of silence, a greeting of about 3-12 s (espeak-ng voicemail texts in English
  and Chinese, or longer en-real clips, alone or two joined), then in 75% of them a beep (0.3-1 s,
  440-2000 Hz) after a short pause, then silence (the recording). A machine starts its greeting as soon as it seizes the
  line (carrier voicemail at once, a home machine after its relay click), so its initial silence is drawn
  a little shorter than a person's.
- silence: dead air (digital silence, faint comfort noise, an answer click).

Counts: 84 people (36 English, 18 Chinese, 30 real), 70 machines (28, 12, 30), 10 dead air; 820 samples
in all. Speech is set to an active level of -30..-16 dBFS, a beep to -6..+2 dB of it. Conditions: each scene
clean and with white or pink noise at 20 and 10 dB SNR (to the active speech level; dead air gets the
noise of a -22 dBFS talker), all through the telephone channel (sox sinc 300-3400 Hz) and a G.711 mu-law
round trip.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
EN_REAL = REPO.parent / "shared" / "data" / "speech" / "en-real"
OUT = REPO / "bench" / "out" / "amd"
RATE = 8000
SEED = 20240611
RECIPE = "v3"

HUMANS_ESPEAK_EN, HUMANS_ESPEAK_CMN, HUMANS_REAL = 36, 18, 30
MACHINES_ESPEAK_EN, MACHINES_ESPEAK_CMN, MACHINES_REAL = 28, 12, 30
SILENCES = 10
SECOND_UTTERANCE_SHARE = 0.3
BEEP_SHARE = 0.75
CONDITIONS = (("clean", None, None), ("white20", "white", 20.0), ("pink20", "pink", 20.0),
              ("white10", "white", 10.0), ("pink10", "pink", 10.0))
NOMINAL_LEVEL_DB = -22.0  # the talker dead air is measured against

GREETINGS = {
    "en": ("Hello?", "Hello.", "Hello, who is this?", "Yes?", "Yeah?", "Hi, who's calling?", "Yes, hello?",
           "Hello, speaking.", "Hi.", "Hello, yes?"),
    "cmn": ("喂", "喂？", "喂，你好", "你好，哪位", "你好", "哪位？", "喂，哪位？"),
}
AGAIN = {"en": ("Hello?", "Hello? Anyone there?", "Hello?"), "cmn": ("喂？", "喂，喂？", "有人吗？")}
MESSAGES = {
    "en": (
        "Hi, you've reached the Johnson residence. We can't come to the phone right now. "
        "Please leave a message after the tone.",
        "Hello, this is Mark. Sorry I missed your call. Leave your name and number and I'll get back to you.",
        "The person you are calling is not available. Please leave a message after the tone. "
        "When you have finished recording, you may hang up.",
        "You have reached five five five, zero one two three. Please leave a message.",
        "Thank you for calling Acme Dental. Our office is currently closed. Our hours are Monday through "
        "Friday, nine to five. Please leave a message after the beep.",
        "The wireless customer you are calling is not available. At the tone, please record your message.",
        "Hey, it's Jenny! I can't talk right now, but leave me a message and I'll call you back.",
        "Hi, this is Tom and Linda. We're not home. Leave a message.",
        "Your call has been forwarded to an automatic voice message system. The number you have dialed "
        "is not available.",
        "Please leave your message for two one two, five five five, zero one nine nine.",
    ),
    "cmn": (
        "您好，您拨打的用户暂时无法接通，请在提示音后留言。",
        "你好，我现在不方便接听电话，请留言，我会尽快回复你。",
        "您好，这里是王先生家，我们现在不在家，请在嘀声后留下您的姓名和电话。",
        "您拨打的电话暂时无人接听，请稍后再拨，或在提示音后留言。",
    ),
}
VOICES = {"en": ("en-us", "en-gb", "en-us+f2", "en-us+f4", "en+m3", "en-gb-scotland", "en-029", "en-us+m7",
                 "en-gb+f3", "en-us-nyc"),
          "cmn": ("cmn", "cmn+f2", "cmn+f4", "cmn+m3")}
# espeak-ng -s ranges giving 3-4.5 syllables/s in both languages (its Mandarin runs at about 0.65 of its
# English syllable rate at the same -s: "你好，哪位" takes 2.2 s at -s 130, no one says it that slowly)
SPEEDS = {"en": (140, 200), "cmn": (215, 310)}
SHORT_CLIPS = ("001.wav", "002.wav", "003.wav", "004.wav", "005.wav", "goforward.wav", "jfk.wav",
               "sense_and_sensibility_01_austen_64kb-0870.wav", "sense_and_sensibility_01_austen_64kb-0880.wav",
               "sense_and_sensibility_01_austen_64kb-0890.wav", "sense_and_sensibility_01_austen_64kb-0920.wav",
               "sense_and_sensibility_01_austen_64kb-0930.wav")
LONG_CLIPS = ("005.wav", "jfk.wav", "sense_and_sensibility_01_austen_64kb-0870.wav",
              "sense_and_sensibility_01_austen_64kb-0880.wav", "sense_and_sensibility_01_austen_64kb-0890.wav",
              "sense_and_sensibility_01_austen_64kb-0920.wav", "sense_and_sensibility_01_austen_64kb-0930.wav")
BEEP_HZ = (1000.0, 1000.0, 440.0, 850.0, 950.0, 1400.0, 1800.0, 2000.0)
RAW = ["-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1"]


@dataclass(frozen=True)
class Sample:
    """One recording and what a correct detector says about it (times in seconds of the recording)."""

    name: str
    label: str  # human | machine | silence
    condition: str
    path: str
    source: str
    speech_start_s: float | None
    speech_end_s: float | None  # of the first utterance (human) or the greeting (machine)
    beep_start_s: float | None
    beep_end_s: float | None


@dataclass(frozen=True)
class _Scene:
    name: str
    label: str
    source: str
    audio: np.ndarray  # float, active speech level 0 dB (rms 1) where there is speech
    speech_start_s: float | None = None
    speech_end_s: float | None = None
    beep_start_s: float | None = None
    beep_end_s: float | None = None
    level_db: float = NOMINAL_LEVEL_DB


def _run(command: list[str], data: bytes | None = None) -> bytes:
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout


def _trimmed(samples: np.ndarray) -> np.ndarray:
    """Without the leading and trailing silence an engine or a recording leaves around speech."""
    frames = samples[:len(samples) // 160 * 160].reshape(-1, 160)
    levels = 10 * np.log10((frames ** 2).mean(axis=1) + 1e-9)
    active = np.nonzero(levels > levels.max() - 40)[0]
    return samples[active[0] * 160:(active[-1] + 1) * 160]


def _normalised(speech: np.ndarray) -> np.ndarray:
    """Scaled to an active level of 0 dB (rms 1 over frames within 30 dB of the loudest)."""
    frames = speech[:len(speech) // 160 * 160].reshape(-1, 160)
    power = (frames ** 2).mean(axis=1)
    return speech / np.sqrt(power[power > power.max() / 1000].mean())


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    wav = _run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text])
    raw = _run(["sox", "-R", "-t", "wav", "-", *RAW, "-"], wav)
    return _normalised(_trimmed(np.frombuffer(raw, dtype=np.int16).astype(np.float64)))


def recording(file: str, tempo: float, cents: int) -> np.ndarray:
    raw = _run(["sox", "-R", str(EN_REAL / file), *RAW, "-", "tempo", f"{tempo:.3f}", "pitch", str(cents)])
    return _normalised(_trimmed(np.frombuffer(raw, dtype=np.int16).astype(np.float64)))


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)))


def _beep(frequency: float, seconds: float, gain_db: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.005)
    return np.sqrt(2) * 10 ** (gain_db / 20) * np.sin(2 * np.pi * frequency * t) * ramp


class _Scenes:
    """Draws every scene from one generator, in a fixed order."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def level(self) -> float:
        return self.uniform(-30.0, -16.0)

    def voice(self, language: str) -> tuple[str, int, int]:
        low, high = SPEEDS[language]
        return self.pick(VOICES[language]), int(self.rng.integers(low, high)), int(self.rng.integers(25, 75))

    def human(self, index: int, kind: str) -> _Scene:
        if kind == "real":
            file, seconds = self.pick(SHORT_CLIPS), self.uniform(1.0, 2.0)
            speech = recording(file, self.uniform(0.9, 1.15), int(self.rng.integers(-300, 300)))
            cut = min(len(speech), int(seconds * RATE))
            speech = speech[:cut] * np.minimum(1.0, (cut - np.arange(cut)) / (0.03 * RATE))
            language, source = "en", f"{file} first {cut / RATE:.2f} s"
            voice = ("en-us", 170, 50)
        else:
            language = kind
            text, voice = self.pick(GREETINGS[language]), self.voice(language)
            speech, source = espeak(text, *voice), f"espeak {voice[0]} -s {voice[1]} -p {voice[2]}: {text}"
        onset = self.uniform(0.0, 1.5)
        parts = [_silence(onset), speech]
        if self.rng.random() < SECOND_UTTERANCE_SHARE:
            again = self.pick(AGAIN[language])
            parts += [_silence(self.uniform(1.0, 2.0)), espeak(again, *voice)]
            source += f" / then: {again}"
        parts.append(_silence(2.5))
        return _Scene(f"human-{index:03d}", "human", source, np.concatenate(parts), onset,
                      onset + len(speech) / RATE, level_db=self.level())

    def machine(self, index: int, kind: str) -> _Scene:
        if kind == "real":
            first = self.pick(LONG_CLIPS)
            tempo, cents = self.uniform(0.9, 1.1), int(self.rng.integers(-300, 300))
            greeting, source = recording(first, tempo, cents), first
            if len(greeting) < 4 * RATE and self.rng.random() < 0.5:
                second = self.pick(LONG_CLIPS)
                greeting = np.concatenate([greeting, _silence(self.uniform(0.3, 0.7)), recording(second, tempo, cents)])
                source += f" + {second}"
            greeting = greeting[:12 * RATE]
        else:
            text, voice = self.pick(MESSAGES[kind]), self.voice(kind)
            greeting, source = espeak(text, *voice), f"espeak {voice[0]} -s {voice[1]} -p {voice[2]}: {text}"
        onset = self.uniform(0.0, 1.2)
        end = onset + len(greeting) / RATE
        parts, beep_start, beep_end = [_silence(onset), greeting], None, None
        if self.rng.random() < BEEP_SHARE:
            pause, frequency, seconds = self.uniform(0.2, 1.0), self.pick(BEEP_HZ), self.uniform(0.3, 1.0)
            parts += [_silence(pause), _beep(frequency, seconds, self.uniform(-6.0, 2.0))]
            beep_start, beep_end = end + pause, end + pause + seconds
            source += f" / beep {frequency:.0f} Hz {seconds:.2f} s"
        parts.append(_silence(2.0))
        return _Scene(f"machine-{index:03d}", "machine", source, np.concatenate(parts), onset, end,
                      beep_start, beep_end, level_db=self.level())

    def silence(self, index: int) -> _Scene:
        seconds = self.uniform(4.0, 6.0)
        audio = _silence(seconds)
        kind = ("digital silence", "comfort noise", "answer click")[index % 3]
        if kind == "comfort noise":  # about -70 dBFS relative to a 0 dB talker at -22 dBFS
            audio = self.rng.standard_normal(len(audio)) * 10 ** (-48 / 20)
        elif kind == "answer click":
            at = int(self.uniform(0.05, 0.5) * RATE)
            audio[at:at + 40] = np.hanning(40) * 3.0 * np.sign(self.rng.standard_normal())
        return _Scene(f"silence-{index:03d}", "silence", kind, audio)

    def all(self) -> list[_Scene]:
        kinds = (["en"] * HUMANS_ESPEAK_EN + ["cmn"] * HUMANS_ESPEAK_CMN + ["real"] * HUMANS_REAL)
        scenes = [self.human(i, kind) for i, kind in enumerate(kinds)]
        kinds = (["en"] * MACHINES_ESPEAK_EN + ["cmn"] * MACHINES_ESPEAK_CMN + ["real"] * MACHINES_REAL)
        scenes += [self.machine(i, kind) for i, kind in enumerate(kinds)]
        return scenes + [self.silence(i) for i in range(SILENCES)]


def noise(kind: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power white or pink (1/f power) noise."""
    white = rng.standard_normal(count)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    pink = np.fft.irfft(spectrum, count)
    return pink / pink.std()


def through_line(scene: _Scene, noise_kind: str | None, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    """The scene as it arrives: at its level, plus noise, band-limited by the channel, mu-law both ways."""
    from audio.g711 import decode, encode

    gain = 32768 * 10 ** (scene.level_db / 20)
    audio = scene.audio * gain
    if noise_kind is not None:
        audio = audio + noise(noise_kind, len(audio), rng) * gain * 10 ** (-snr_db / 20)
    pcm = np.clip(np.round(audio), -32768, 32767).astype(np.int16)
    pcm = np.frombuffer(_run(["sox", "-R", *RAW, "-", *RAW, "-", "sinc", "300-3400"], pcm.tobytes()), dtype=np.int16)
    return decode(encode(pcm, "ulaw"), "ulaw")


def build(out: Path = OUT) -> list[Sample]:
    """The set, rendered on first use and read from the cache after."""
    from audio.wav import write_pcm

    folder = out / RECIPE
    manifest = folder / "manifest.json"
    if manifest.exists():
        return [Sample(**row) for row in json.loads(manifest.read_text())]
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for index, scene in enumerate(_Scenes(SEED).all()):
        for number, (condition, kind, snr) in enumerate(CONDITIONS):
            path = folder / condition / f"{scene.name}.wav"
            path.parent.mkdir(exist_ok=True)
            write_pcm(path, through_line(scene, kind, snr, np.random.default_rng([SEED, index, number])))
            samples.append(Sample(f"{condition}/{scene.name}", scene.label, condition, str(path.relative_to(folder)),
                                  scene.source, scene.speech_start_s, scene.speech_end_s, scene.beep_start_s,
                                  scene.beep_end_s))
    manifest.write_text(json.dumps([asdict(sample) for sample in samples], ensure_ascii=False, indent=1))
    return samples


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(REPO))
    print(f"{len(build())} samples in {OUT / RECIPE}")
