"""After a call: its recording transcribed per speaker, the transcript screened, the findings saved for the
review queue (holds placed where a category demands one, e.g. a cease request), the transcript kept. The
attempt's after-call job (campaigns/attempts.py) is done once its screening is saved; a job a crash
interrupted is still queued, and the next run works it.

Heavy work (whisper) runs in a worker thread here; a deployment runs it in the transcription workers fed
by `recordings.jobs` and calls `screen_transcript` when a transcript lands.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from campaigns.attempts import aftercall_done
from cases import Store
from cases.models import Account, Attempt, ScreeningFinding
from compliance.screening import CallContext, Screener, Utterance, load_policies, record_screening
from recordings.transcripts import RecordingTranscript, recording_id
from speech.transcribe import Transcriber, Transcript


@dataclass(frozen=True)
class AfterCallResult:
    attempt_id: int
    transcript: Transcript
    findings: int


def utterances_of(transcript: Transcript, attempt_id: int) -> list[Utterance]:
    return [Utterance(f"{attempt_id}-{n}", segment.text, transcript.language, segment.speaker, segment.start_s,
                      segment.end_s) for n, segment in enumerate(transcript.segments)]


def screen_transcript(store: Store, screener: Screener, attempt_id: int, transcript: Transcript, *,
                      actor: str = "screening") -> list[ScreeningFinding]:
    with store.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        account = session.get(Account, attempt.account_id)
        assert account is not None
        context = CallContext(jurisdiction=account.jurisdiction, time_barred=account.time_barred)
        screening = screener.screen_call(utterances_of(transcript, attempt_id), context)
        findings = record_screening(session, attempt_id=attempt_id, screening=screening, policies=load_policies(),
                                    actor=actor)
        aftercall_done(session, attempt_id)  # with the findings, in one transaction: done means screened
        return findings


class AfterCall:
    def __init__(self, store: Store, transcriber: Transcriber, screener: Screener) -> None:
        self.store, self.transcriber, self.screener = store, transcriber, screener
        self._lock = asyncio.Lock()  # one transcription at a time: the model runs on one core

    async def __call__(self, attempt_id: int, recording: Path) -> AfterCallResult:
        async with self._lock:
            transcript = await asyncio.to_thread(self.transcriber.transcribe_stereo, recording)
        RecordingTranscript(recording_id(recording), str(recording), transcript, self.transcriber.engine).write_json()
        findings = await asyncio.to_thread(screen_transcript, self.store, self.screener, attempt_id, transcript)
        return AfterCallResult(attempt_id, transcript, len(findings))
