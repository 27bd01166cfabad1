"""Transcripts of call recordings: one JSON document per recording, kept in Redis, copied beside the file.

Where they live, until a database table holds them:

- Redis key `dunline:transcript:<recording id>`: the transcript as JSON, written once (SET NX, by the job
  queue's completion script) and never expired. This copy is the one of record.
- `<recording>.transcript.json` beside the recording, written (atomically) by `dunline transcribe` for
  people and tools that read files; rewritable from the Redis copy at any time.

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

from speech.transcribe import SPEAKERS, Segment, Transcript

TRANSCRIPT_PREFIX = "dunline:transcript"
JSON_SUFFIX = ".transcript.json"


def recording_id(path: Path | str) -> str:
    return hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:24]


def json_path(recording: Path | str) -> Path:
    """Where a recording's transcript file goes: `call.wav` -> `call.transcript.json`."""
    path = Path(recording)
    return path.with_name(path.stem + JSON_SUFFIX)


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


class TranscriptStore:
    """The Redis copy of record: `get` reads; writing is the job queue's, at completion (see jobs.py)."""

    def __init__(self, client: redis.Redis, prefix: str = TRANSCRIPT_PREFIX) -> None:
        self.client, self.prefix = client, prefix

    def key(self, recording_id: str) -> str:
        return f"{self.prefix}:{recording_id}"

    def get(self, recording_id: str) -> RecordingTranscript | None:
        text = self.client.get(self.key(recording_id))
        return None if text is None else RecordingTranscript.from_json(text)

    def put_once(self, record: RecordingTranscript) -> bool:
        """Store unless one is stored already; True when this call stored it."""
        return bool(self.client.set(self.key(record.recording_id), record.to_json(), nx=True))
