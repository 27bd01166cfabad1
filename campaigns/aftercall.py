"""After a call: its recording transcribed per speaker, the transcript screened in the call's own context
(`compliance.screening.call_context`: a reference contact is third-party talk), the findings saved with the
agent who took the call for the review queue, the holds placed that a category demands (a cease request),
the transcript kept beside the recording.

One path. The runner's `AfterCall` makes sure the recording is sealed (recordings/storage.py: encrypted at
rest, the attempt row naming the sealed file; one its recorder sealed as it was written is left as it is, a
plain one is sealed and removed) and puts it on the durable transcription stream
(recordings/jobs.py), as a job named for the attempt, so queueing it again (the runner's backlog, the start-up
`enqueue_backlog`) makes no second job. Transcription workers, processes of their own (dunline/workers.py),
transcribe it and run `ScreenTranscripts`, which saves the screening and marks the attempt's after-call job
done in one transaction (campaigns/attempts.py) before the stream job is completed. The attempt row is the
truth (queued until screened), the stream the dispatch: a worker or a server killed at any point leaves the
job open or the row queued, the job is redone, and screening an attempt already done does nothing.

The job carries the call's language (campaigns/language.py): its campaign's when the campaign's segment
picks one language, else its case's (the debtor's). The worker loads the model for it (Mandarin: the multilingual
Whisper base, English: tiny.en) and the transcript is screened with that language's lexicon.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from campaigns.attempts import (
    aftercall_done,
    aftercall_pending,
    queued_aftercalls,
    set_recording,
    unsealed_recordings,
)
from campaigns.language import call_language
from cases import Store
from cases.models import ScreeningFinding
from compliance.screening import Screener, Utterance, call_context, record_screening
from crypto import CryptoError, MasterKeys, NoMasterKey
from recordings.jobs import JobQueue
from recordings.storage import seal_recording
from recordings.transcripts import RecordingTranscript
from speech.transcribe import Transcript

log = logging.getLogger(__name__)

JOB_PREFIX = "attempt-"


def aftercall_job_id(attempt_id: int) -> str:
    """The stream job (and transcript) id of an attempt's recording."""
    return f"{JOB_PREFIX}{attempt_id}"


def attempt_of(job_id: str) -> int | None:
    """The attempt an after-call job is for; None for a job of another origin (`dunline transcribe` files)."""
    number = job_id.removeprefix(JOB_PREFIX)
    return int(number) if job_id.startswith(JOB_PREFIX) and number.isdigit() else None


def utterances_of(transcript: Transcript, attempt_id: int) -> list[Utterance]:
    return [Utterance(f"{attempt_id}-{n}", segment.text, transcript.language, segment.speaker, segment.start_s,
                      segment.end_s) for n, segment in enumerate(transcript.segments)]


def screen_transcript(store: Store, screener: Screener, attempt_id: int, transcript: Transcript, *,
                      actor: str = "screening") -> list[ScreeningFinding]:
    """Screen the call, save its findings and holds and mark its after-call job done, in one transaction; the
    findings saved. An attempt already done gets nothing (its job was redone after a worker presumed dead
    had finished it)."""
    with store.session() as session:
        if not aftercall_pending(session, attempt_id):
            return []
        screening = screener.screen_call(utterances_of(transcript, attempt_id), call_context(session, attempt_id))
        findings = record_screening(session, attempt_id=attempt_id, screening=screening, policies=screener.policies,
                                    actor=actor)
        aftercall_done(session, attempt_id)  # with the findings: done means screened
        return findings


def screen_recorded(store: Store, screener: Screener, attempt_id: int, record: RecordingTranscript,
                    keys: MasterKeys | None = None) -> list[ScreeningFinding]:
    """The after-call step once a transcript exists: kept beside the recording (sealed with `keys`), then
    screened."""
    try:
        if keys is not None:
            record.write_sealed(keys.keyring())
        else:
            record.write_json()
    except (OSError, CryptoError) as error:  # the copy for people; the one of record is the job queue's (Redis)
        log.warning("attempt %s: transcript not written beside the recording (%s)", attempt_id, error)
    return screen_transcript(store, screener, attempt_id, record.transcript)


@functools.cache
def _screening_parts(database_url: str, keys: MasterKeys | None) -> tuple[Store, Screener]:
    """One store and one screener per worker process."""
    return Store(database_url, keys=keys), Screener.load()


@dataclass(frozen=True)
class ScreenTranscripts:
    """The transcription workers' after step (`recordings.worker.AfterTranscript`): an attempt's job is
    screened; other jobs are left alone. Made of the database URL and the key service (which pickles as its
    path), so it travels to spawned workers."""

    database_url: str
    keys: MasterKeys | None = None

    def __call__(self, job_id: str, record: RecordingTranscript) -> None:
        attempt_id = attempt_of(job_id)
        if attempt_id is not None:
            screen_recorded(*_screening_parts(self.database_url, self.keys), attempt_id, record, self.keys)


class AfterCall:
    """The runner's after-call step, `await after_call(attempt_id, recording)`: the recording is sealed with
    `keys` (none: left plain) and becomes a job on the durable stream (its id, returned, is the attempt's), in
    the call's language (`call_language`), for the transcription workers."""

    def __init__(self, store: Store, jobs: JobQueue, *, keys: MasterKeys | None = None) -> None:
        self.store, self.jobs, self.keys = store, jobs, keys

    def _enqueue(self, attempt_id: int, recording: Path) -> str:
        with self.store.reading() as session:
            language = call_language(session, attempt_id)
        return self.jobs.enqueue(self._seal(attempt_id, recording), language, recording_id=aftercall_job_id(attempt_id))

    def _seal(self, attempt_id: int, recording: Path) -> Path:
        """The recording sealed (already, when its recorder sealed it as written) and its attempt row naming
        the sealed file. Without a master key it stays plain, loudly: a call's recording is evidence, and the
        next start (the backlog) seals it."""
        if self.keys is None:
            return recording
        try:
            sealed = seal_recording(recording, self.keys.keyring())
        except NoMasterKey as error:
            log.error("attempt %s: recording left unencrypted at %s: %s", attempt_id, recording, error)
            return recording
        if sealed != recording:
            with self.store.session() as session:
                set_recording(session, attempt_id, sealed)
        return sealed

    async def __call__(self, attempt_id: int, recording: Path) -> str:
        return await asyncio.to_thread(self._enqueue, attempt_id, recording)

    def enqueue_backlog(self) -> list[int]:
        """Put every attempt whose after-call job is still queued in the case store on the stream (at start-up:
        a server killed between closing a call and queueing its job, a stream lost with Redis); the attempt
        ids. Jobs already on the stream or done stay as they are, but a done call's recording still plain is
        sealed."""
        with self.store.reading() as session:
            waiting = queued_aftercalls(session, limit=None)
            unsealed = unsealed_recordings(session) if self.keys is not None else []
        for attempt_id, recording in unsealed:
            self._seal(attempt_id, recording)
        for attempt_id, recording in waiting:
            self._enqueue(attempt_id, recording)
        return [attempt_id for attempt_id, _ in waiting]
