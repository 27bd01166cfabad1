"""Transcription speed and accuracy on telephone-band speech: faster-whisper tiny.en, int8, one thread.

Builds a stereo 8 kHz call (left debtor, right agent) of at least 100 s from the real speech clips in
`../shared/data/speech/en-real/`: every clip is put through the telephone band (300-3400 Hz, 8 kHz,
G.711 mu-law round trip), the clips take turns on alternating sides with 0.6-1.8 s pauses, twice over
(sides swapped the second time), over a faint noise floor (about -60 dBFS) on both channels. Printed: the
real-time factor of `Transcriber.transcribe_stereo` on that call (wall time over audio time, model loaded
beforehand; goal <= 0.05), segments per speaker, the word error rate of each side of the call, and the WER
of the clips transcribed one by one (the acceptance figure, goal <= 12%).

    python bench/transcribe.py [--json] [--threads 1] [--keep FILE.wav]

With --json: one object {"audio_s", "rtf", "wer"}, where "wer" is the clip-by-clip WER.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.wav import read_pcm, write_pcm  # noqa: E402
from speech.transcribe import SPEAKERS, Transcriber, telephone_band  # noqa: E402
from speech.wer import corpus_wer, word_errors  # noqa: E402

SPEECH = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech" / "en-real"  # a copy of ../shared's
RATE = 8000
MIN_SECONDS = 100.0
NOISE_RMS = 33.0  # int16, about -60 dBFS


def load_clips(folder: Path = SPEECH) -> list[tuple[str, str, np.ndarray]]:
    """(file, reference text, telephone-band int16 at 8 kHz) for each clip of the manifest."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return [(item["file"], item["text"], telephone_band(read_pcm(folder / item["file"], 16000), 16000))
            for item in manifest]


def build_call(clips: list[tuple[str, str, np.ndarray]], seed: int = 7) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Stereo int16 frames of at least MIN_SECONDS, and each speaker's reference texts in order."""
    rng = np.random.default_rng(seed)
    turns: list[tuple[int, np.ndarray, str]] = []
    length, rounds = 0, 0
    while length < MIN_SECONDS * RATE:
        for index, (_, text, pcm) in enumerate(clips):
            side = (index + rounds) % 2
            turns.append((side, pcm, text))
            length += len(pcm) + int(rng.uniform(0.6, 1.8) * RATE)
        rounds += 1
    frames = rng.normal(0.0, NOISE_RMS, size=(length + RATE, 2))
    references: dict[str, list[str]] = {speaker: [] for speaker in SPEAKERS}
    position = int(0.5 * RATE)
    for side, pcm, text in turns:
        frames[position:position + len(pcm), side] += pcm
        references[SPEAKERS[side]].append(text)
        position += len(pcm) + int(rng.uniform(0.6, 1.8) * RATE)
    return np.clip(np.round(frames), -32768, 32767).astype(np.int16), references


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help='one object: {"audio_s", "rtf", "wer"}')
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="also write the built call to this WAV file")
    args = parser.parse_args()
    if not (SPEECH / "manifest.json").exists():
        sys.exit(f"no test speech at {SPEECH} (a copy of ../shared/data/speech/en-real); nothing to measure")

    clips = load_clips()
    frames, references = build_call(clips)
    started = time.perf_counter()
    transcriber = Transcriber("en", threads=args.threads)
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "call.wav"
        write_pcm(path, frames, RATE)
        wall, cpu = time.perf_counter(), time.process_time()
        transcript = transcriber.transcribe_stereo(path)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    audio_s = len(frames) / RATE
    call_errors = {speaker: word_errors(" ".join(references[speaker]), transcript.text(speaker))
                   for speaker in SPEAKERS}
    pairs = [(text, " ".join(s.text for s in transcriber.transcribe_channel(pcm, RATE, "debtor")))
             for _, text, pcm in clips]
    clip_wer = corpus_wer(pairs)
    if args.json:
        print(json.dumps({"audio_s": round(audio_s, 2), "rtf": round(wall / audio_s, 4), "wer": round(clip_wer, 4)}))
        return
    print(f"model {transcriber.model_path} loaded in {load_s:.2f} s (int8, {args.threads} thread(s))")
    turns = sum(len(texts) for texts in references.values())
    print(f"call: {audio_s:.1f} s stereo 8 kHz, {turns} turns ({len(clips)} clips, each on both sides); "
          f"transcribed in {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"real-time factor {wall / audio_s:.4f} (CPU {cpu / audio_s:.4f}); goal <= 0.05")
    for speaker in SPEAKERS:
        edits, words = call_errors[speaker]
        print(f"  {speaker:6}: {transcript.counts()[speaker]:3} segments, {len(references[speaker])} turns, "
              f"WER {edits / words:.2%} ({edits}/{words} words)")
    total_edits = sum(e for e, _ in call_errors.values())
    total_words = sum(w for _, w in call_errors.values())
    print(f"call WER (both sides) {total_edits / total_words:.2%}")
    print(f"clip-by-clip WER on {len(clips)} clips after the telephone band: {clip_wer:.2%}; goal <= 12%")


if __name__ == "__main__":
    main()
