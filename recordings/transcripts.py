"""Transcripts of call recordings: one JSON document per recording, kept in Redis, copied beside the file.

Where they live, until a database table holds them:

- Redis key `dunline:transcript:<recording id>`: the transcript as JSON, written once (SET NX, by the job
  queue's completion script) and never expired. This copy is the one of record.
- `<recording>.transcript.json` beside the recording, written (atomically) by `dunline transcribe` for
  people and tools that read files; rewritable from the Redis copy at any time. A call's transcript, beside
  its sealed recording, is sealed too: `<attempt>.transcript.json.sealed` (recordings/storage.py).

A recording's id is the SHA-256 of its absolute path (first 24 hex digits), so the same file is the same
recording wherever it is named from; pass your own id when the recording has one.

The document:

    {"recording_id": "…", "recording": "/var/recordings/….wav", "language": "en", "duration_s": 126.8,
     "engine": {"engine": "faster-whisper", "model": "…", "compute_type": "int8", "beam_size": 1},
     "created_at": "2025-01-31T09:12:44Z",
     "segments": [{"speaker": "debtor", "start_s": 0.44, "end_s": 1.66, "text": "Ten of clubs."}, …]}
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from crypto import Keyring, MasterKeys, NoMasterKey, is_sealed_bytes, read_sealed, seal_bytes, seal_to_bytes
from recordings.storage import plain_path, sealed_path
from speech.transcribe import SPEAKERS, Segment, Transcript

TRANSCRIPT_PREFIX = "dunline:transcript"
JSON_SUFFIX = ".transcript.json"


def recording_id(path: Path | str) -> str:
    return hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:24]


def json_path(recording: Path | str) -> Path:
    """Where a recording's transcript file goes: `call.wav` (or `call.wav.sealed`) -> `call.transcript.json`."""
    path = plain_path(Path(recording))
    return path.with_name(path.stem + JSON_SUFFIX)


def transcript_file(recording: Path | str) -> Path | None:
    """The transcript file beside a recording, sealed or plain; None when there is none."""
    plain = json_path(recording)
    return next((path for path in (sealed_path(plain), plain) if path.exists()), None)


def read_transcript_file(path: Path, keys: MasterKeys | None) -> RecordingTranscript:
    """A transcript file, plain or sealed (NoMasterKey for a sealed one without keys)."""
    return decode_transcript(path.read_bytes(), keys)


def decode_transcript(stored: bytes | str, keys: MasterKeys | None) -> RecordingTranscript:
    """A transcript as stored (a file's bytes, a Redis value): plain JSON, or sealed (NoMasterKey for a sealed
    one without keys)."""
    data = stored.encode() if isinstance(stored, str) else stored
    if not is_sealed_bytes(data):
        return RecordingTranscript.from_json(data)
    if keys is None:
        raise NoMasterKey("the transcript is sealed and this process was given no master keys")
    return RecordingTranscript.from_json(read_sealed(data, keys.keyring()))


@dataclass(frozen=True)
class RecordingTranscript:
    recording_id: str
    recording: str
    transcript: Transcript
    engine: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_json(self) -> str:
        t = self.transcript
        return json.dumps({
            "recording_id": self.recording_id, "recording": self.recording, "language": t.language,
            "duration_s": t.duration_s, "engine": self.engine, "created_at": self.created_at,
            "segments": [{"speaker": s.speaker, "start_s": s.start_s, "end_s": s.end_s, "text": s.text}
                         for s in t.segments],
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> RecordingTranscript:
        data = json.loads(text)
        segments = []
        for s in data["segments"]:
            if s["speaker"] not in SPEAKERS:
                raise ValueError(f"unknown speaker {s['speaker']!r} in transcript {data['recording_id']}")
            segments.append(Segment(s["speaker"], float(s["start_s"]), float(s["end_s"]), s["text"]))
        transcript = Transcript(data["language"], float(data["duration_s"]), tuple(segments))
        return cls(data["recording_id"], data["recording"], transcript, data.get("engine", {}), data["created_at"])

    def write_json(self, path: Path | None = None) -> Path:
        """Write the document to `path` (default: beside the recording) via a temporary file and a rename."""
        target = path or json_path(self.recording)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_text(self.to_json() + "\n", encoding="utf-8")
        os.replace(temporary, target)
        return target

    def write_sealed(self, keyring: Keyring) -> Path:
        """Seal the document beside its (sealed) recording: `<attempt>.transcript.json.sealed`."""
        target = sealed_path(json_path(self.recording))
        seal_bytes((self.to_json() + "\n").encode(), target, keyring)
        return target


class TranscriptStore:
    """The Redis copy of record: `get` reads; writing is the job queue's, at completion (see jobs.py). With
    `keys` the copy is sealed (what Redis persists to disk shows no words in clear); reading takes either."""

    def __init__(self, client: redis.Redis, prefix: str = TRANSCRIPT_PREFIX, keys: MasterKeys | None = None) -> None:
        self.client, self.prefix, self.keys = client, prefix, keys

    def encode(self, record: RecordingTranscript) -> bytes:
        data = record.to_json().encode()
        return data if self.keys is None else seal_to_bytes(data, self.keys.keyring())

    def key(self, recording_id: str) -> str:
        return f"{self.prefix}:{recording_id}"

    def get(self, recording_id: str) -> RecordingTranscript | None:
        stored = self.client.get(self.key(recording_id))
        return None if stored is None else decode_transcript(stored, self.keys)

    def exists(self, recording_id: str) -> bool:
        return bool(self.client.exists(self.key(recording_id)))

    def delete(self, recording_id: str) -> None:
        """Destroy the copy of record (the retention job's, when the transcript's time is up)."""
        self.client.delete(self.key(recording_id))

    def put_once(self, record: RecordingTranscript) -> bool:
        """Store unless one is stored already; True when this call stored it."""
        return bool(self.client.set(self.key(record.recording_id), self.encode(record), nx=True))
