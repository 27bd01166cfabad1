"""Recordings and transcripts at rest: what lies on disk shows no speech or words, opens only with the right
master key, refuses a file cut short or altered, survives a key rotation (the old key then dropped), is read
through the decrypting reader by the transcriber's WAV reader, and is played in ranges by the reviewer's route
(206 bytes equal to the plain WAV's at that range)."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from audio.wav import RATE
from crypto import (
    KeyMissing,
    Keyring,
    MasterKey,
    MasterKeys,
    NoMasterKey,
    SealedFileError,
    SealedReader,
    WrongKey,
    key_id_of,
    read_sealed,
    rewrap,
)
from crypto.keys import ENVIRONMENT, write_key_file
from crypto.sealed import CHUNK_BYTES, HEADER_BYTES, TAG_BYTES
from campaigns.aftercall import AfterCall
from campaigns.attempts import recording_path
from campaigns.recovery import sweep_aftercalls
from cases import Store
from cases.models import Attempt, Role
from compliance.screening import Screener
from console import build_app
from console.review import MasterKeysKey, RecordingsKey, TranscriptPrefixKey, recording_file
from dialer.media.recorder import StereoRecorder
from recordings.jobs import JobQueue
from recordings.storage import keys_in_use, open_recording, rewrap_all, seal_recording, sealed_path
from recordings.transcripts import RecordingTranscript, TranscriptStore, read_transcript_file, transcript_file
from speech.transcribe import Segment, Transcript, read_stereo
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, clock, mint_token  # noqa: F401 - clock is a fixture
from tests.console.test_review import CALL_AT, record_audio, screener, seed_flagged_call  # noqa: F401 - a fixture

WAV_HEADER = 44
WORDS = "If you do not pay today the police will come"


def tone_recording(path: Path, seconds: float = 6.0) -> bytes:
    """A call recorded by the call recorder (a low tone for the debtor, a high one for the agent); its PCM
    frames from 0.25 s to 0.75 s as written (what must not be found in clear)."""
    record_audio(path, seconds)
    frames = path.read_bytes()[WAV_HEADER + RATE:WAV_HEADER + 3 * RATE]
    assert len(frames) == 2 * RATE and frames != bytes(len(frames))  # tones, not silence
    return frames


@pytest.fixture
def keys(tmp_path: Path) -> MasterKeys:
    keys = MasterKeys(tmp_path / "master.key", environ={})
    keys.add()
    return keys


def test_a_sealed_recording_and_transcript_show_no_speech_or_words_and_read_back(tmp_path: Path,
                                                                               keys: MasterKeys) -> None:
    wav = tmp_path / "recordings" / "2026" / "12" / "02" / "7.wav"
    speech = tone_recording(wav)
    plain = wav.read_bytes()
    assert speech[:400] in plain  # the probe finds the tone in a plain recording
    sealed = seal_recording(wav, keys.keyring())
    assert sealed.name == "7.wav.sealed" and not wav.exists()
    on_disk = sealed.read_bytes()
    for at in range(0, len(speech) - 64, 997):  # no 64-byte run of the tone, anywhere, in clear
        assert speech[at:at + 64] not in on_disk
    assert b"RIFF" not in on_disk and b"data" not in on_disk[HEADER_BYTES:]
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    assert read_sealed(sealed, keys.keyring()) == plain
    assert seal_recording(wav, keys.keyring()) == sealed  # sealing again is a no-op

    record = RecordingTranscript("attempt-7", str(sealed), Transcript("en", 6.0, (Segment("agent", 0.5, 3.0, WORDS),)))
    written = record.write_sealed(keys.keyring())
    assert written.name == "7.transcript.json.sealed" and transcript_file(sealed) == written
    assert b"police" not in written.read_bytes() and WORDS.encode() not in written.read_bytes()
    assert read_transcript_file(written, keys).transcript.segments[0].text == WORDS


def test_new_directories_and_files_are_owner_only(tmp_path: Path, keys: MasterKeys) -> None:
    wav = tmp_path / "a.wav"
    tone_recording(wav, 1.0)
    sealed = seal_recording(wav, keys.keyring())
    RecordingTranscript("x", str(tmp_path / "deeper" / "b.wav.sealed"), Transcript("en", 1.0, ())).write_sealed(
        keys.keyring())
    assert stat.S_IMODE((tmp_path / "deeper").stat().st_mode) == 0o700
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.path.stat().st_mode) == 0o600


def test_a_wrong_or_missing_key_is_a_clear_error_naming_the_key_id(tmp_path: Path, keys: MasterKeys) -> None:
    wav = tmp_path / "a.wav"
    tone_recording(wav, 1.0)
    sealed = seal_recording(wav, keys.keyring())
    key_id = key_id_of(sealed)
    impostor = Keyring([MasterKey(key_id, os.urandom(32))])
    with pytest.raises(WrongKey, match=key_id):
        SealedReader(sealed, impostor)
    with pytest.raises(KeyMissing, match=key_id):
        SealedReader(sealed, Keyring([MasterKey("other", os.urandom(32))]))
    with pytest.raises(NoMasterKey, match="dunline db upgrade"):
        MasterKeys(tmp_path / "none.key", environ={}).keyring()
    with pytest.raises(NoMasterKey):
        open_recording(sealed, None)


def test_keys_from_the_environment_win_over_the_key_file(tmp_path: Path, keys: MasterKeys) -> None:
    secret = os.urandom(32)
    environ = {ENVIRONMENT: f"envkey:{base64.b64encode(secret).decode()},{keys.keyring().current.id}:"
                            f"{base64.b64encode(keys.keyring().current.secret).decode()}"}
    from_environment = MasterKeys(keys.path, environ=environ)
    assert from_environment.keyring().current == MasterKey("envkey", secret)
    with pytest.raises(ValueError, match=ENVIRONMENT):
        from_environment.add()


def test_a_truncated_or_tampered_file_is_refused(tmp_path: Path, keys: MasterKeys) -> None:
    wav = tmp_path / "a.wav"
    tone_recording(wav, 6.0)  # 192 kB: three chunks
    sealed = seal_recording(wav, keys.keyring())
    whole = sealed.read_bytes()

    sealed.write_bytes(whole[:-1])
    with pytest.raises(SealedFileError, match="truncated"):
        SealedReader(sealed, keys.keyring())
    sealed.write_bytes(whole[:HEADER_BYTES + CHUNK_BYTES + TAG_BYTES])  # cut at a chunk's edge
    with pytest.raises(SealedFileError, match="truncated"):
        SealedReader(sealed, keys.keyring())

    altered = bytearray(whole)
    altered[HEADER_BYTES + CHUNK_BYTES + TAG_BYTES + 10] ^= 1  # one bit of the second chunk
    sealed.write_bytes(altered)
    with SealedReader(sealed, keys.keyring()) as reader:
        assert len(reader.read_range(0, 1000)) == 1000  # the first chunk is intact and served
        with pytest.raises(SealedFileError, match="chunk 1"):
            reader.read_range(CHUNK_BYTES, 10)

    altered = bytearray(whole)
    altered[20] ^= 1  # the plain size in the header
    sealed.write_bytes(altered)
    with pytest.raises(SealedFileError, match="truncated or extended"):
        SealedReader(sealed, keys.keyring())
    altered = bytearray(whole)
    altered[30] ^= 1  # the file id, to which the wrapped data key is bound
    sealed.write_bytes(altered)
    with pytest.raises(WrongKey, match="altered"):
        SealedReader(sealed, keys.keyring())


def test_rotation_rewraps_every_file_and_the_old_key_can_then_be_dropped(tmp_path: Path, keys: MasterKeys) -> None:
    recordings = tmp_path / "recordings"
    plains = {}
    for n in range(3):
        wav = recordings / f"{n}.wav"
        tone_recording(wav, 1.0 + n)
        plains[n] = wav.read_bytes()
        seal_recording(wav, keys.keyring())
    old = keys.keyring().current.id
    running = MasterKeys(keys.path, environ={})  # a serving process that loaded the keys before the rotation
    running.keyring()
    payloads = {path: path.read_bytes()[HEADER_BYTES:] for path in recordings.glob("*.sealed")}

    new = keys.add()
    rotation = rewrap_all(recordings, keys.keyring())
    assert (rotation.rewrapped, rotation.current, rotation.failed) == (3, 0, {})
    assert keys_in_use(recordings) == {new.id: 3}
    assert {path: path.read_bytes()[HEADER_BYTES:] for path in payloads} == payloads  # payloads untouched
    assert rewrap_all(recordings, keys.keyring()).current == 3  # idempotent

    keys.drop(old)
    assert keys.keyring().ids == [new.id]
    for n, plain in plains.items():
        assert read_sealed(recordings / f"{n}.wav.sealed", running.keyring()) == plain  # re-read on change
    with pytest.raises(ValueError, match="current"):
        keys.drop(new.id)


def test_the_transcriber_reads_a_sealed_recording_through_the_decrypting_reader(tmp_path: Path,
                                                                                keys: MasterKeys) -> None:
    wav = tmp_path / "a.wav"
    tone_recording(wav, 5.0)  # several chunks: a read that spans two must come back whole
    (left, right), rate = read_stereo(wav)
    sealed = seal_recording(wav, keys.keyring())
    with open_recording(tmp_path / "a.wav", keys) as source:  # the name the attempt had before sealing
        (sealed_left, sealed_right), sealed_rate = read_stereo(source)
    assert sealed_rate == rate == RATE
    assert np.array_equal(left, sealed_left) and np.array_equal(right, sealed_right)
    assert rewrap(sealed, keys.keyring()) is False  # already on the current key


@pytest.fixture
def jobs(redis_prefix: str) -> Iterator[JobQueue]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    yield JobQueue(client, prefix=redis_prefix, transcripts=TranscriptStore(client, f"{redis_prefix}:transcript"))
    client.close()


async def test_the_after_call_seals_the_recording_and_the_review_route_serves_it_decrypted_in_ranges(
        store: Store, clock: StepClock, tmp_path: Path, keys: MasterKeys, jobs: JobQueue, screener: Screener) -> None:
    recordings = tmp_path / "recordings"
    attempt = seed_flagged_call(store, screener, recordings, ref="A1")
    plain_file = recording_path(recordings, attempt, CALL_AT)
    plain = plain_file.read_bytes()

    assert await AfterCall(store, jobs, keys=keys)(attempt, plain_file) == f"attempt-{attempt}"
    sealed = sealed_path(plain_file)
    assert sealed.exists() and not plain_file.exists()
    with store.reading() as session:
        assert session.get(Attempt, attempt).recording_path == str(sealed)  # type: ignore[union-attr]
    assert jobs.client.hget(f"{jobs.prefix}:job:attempt-{attempt}", "recording") == str(sealed).encode()

    sealed_copies = TranscriptStore(jobs.client, f"{jobs.prefix}:transcript", keys)
    sealed_copies.put_once(RecordingTranscript(f"attempt-{attempt}", str(sealed), Transcript(
        "en", 3.0, (Segment("agent", 0.1, 2.0, WORDS),))))

    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock)
    app[RecordingsKey], app[MasterKeysKey], app[TranscriptPrefixKey] = recordings, keys, sealed_copies.prefix
    headers = bearer(mint_token(store, Role.COMPLIANCE_REVIEWER, username="qa1"))
    async with TestClient(TestServer(app)) as client:
        call = await (await client.get(f"/api/review/calls/{attempt}", headers=headers)).json()
        assert call["transcript"]["segments"][0]["text"] == WORDS  # the sealed copy of record, decrypted
        url = f"/api/review/calls/{attempt}/recording"
        whole = await client.get(url, headers=headers)
        assert whole.status == 200 and await whole.read() == plain
        for asked, start, stop in (("bytes=100-199", 100, 200), ("bytes=65530-65545", 65530, 65546),
                                   (f"bytes={len(plain) - 10}-", len(plain) - 10, len(plain)),
                                   ("bytes=-7", len(plain) - 7, len(plain))):
            part = await client.get(url, headers={**headers, "Range": asked})
            assert part.status == 206 and await part.read() == plain[start:stop], asked
            assert part.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(plain)}"
        beyond = await client.get(url, headers={**headers, "Range": f"bytes={len(plain)}-"})
        assert beyond.status == 416

        key_file = keys.path.read_bytes()
        keys.path.unlink()  # the key gone: a clear error, nothing of the file
        refused = await client.get(url, headers=headers)
        body = await refused.json()
        assert refused.status == 503 and "master key" in body["message"] and "RIFF" not in await refused.text()
        key_id = key_id_of(sealed)
        write_key_file(keys.path, Keyring([MasterKey(key_id, os.urandom(32))]))  # another key under its id
        wrong = await client.get(url, headers=headers)
        assert wrong.status == 503 and key_id in (await wrong.json())["message"]
        keys.path.write_bytes(key_file)
        assert (await client.get(url, headers=headers)).status == 200
    await redis_client.aclose()


def test_the_start_up_backlog_seals_a_plain_recording_a_crash_left_behind(
        store: Store, tmp_path: Path, keys: MasterKeys, jobs: JobQueue, screener: Screener) -> None:
    recordings = tmp_path / "recordings"
    attempt = seed_flagged_call(store, screener, recordings, ref="A1")
    done = seed_flagged_call(store, screener, recordings, ref="A2")  # screened while no key was configured
    plain_file = recording_path(recordings, attempt, CALL_AT)
    with store.session() as session:  # the server died after the close, before the after-call step
        row = session.get(Attempt, attempt)
        assert row is not None
        row.aftercall = None
    assert sweep_aftercalls(store) == [attempt]
    assert AfterCall(store, jobs, keys=keys).enqueue_backlog() == [attempt]
    assert not plain_file.exists() and sealed_path(plain_file).exists()
    with store.reading() as session:
        assert session.get(Attempt, attempt).recording_path == str(sealed_path(plain_file))  # type: ignore[union-attr]
        sealed_done = session.get(Attempt, done).recording_path  # type: ignore[union-attr]
    assert sealed_done is not None and sealed_done.endswith(".wav.sealed") and Path(sealed_done).exists()
    assert jobs.status(f"attempt-{done}") == {}  # sealed, not transcribed again


def test_a_recording_sealed_as_written_is_swept_up_after_a_crash_and_left_as_it_is_by_the_after_call(
        store: Store, tmp_path: Path, keys: MasterKeys, jobs: JobQueue, screener: Screener) -> None:
    recordings = tmp_path / "recordings"
    attempt = seed_flagged_call(store, screener, recordings, ref="A1")
    named = recording_path(recordings, attempt, CALL_AT)  # what the row names from before the call
    named.unlink()
    now = [0.0]
    recorder = StereoRecorder(named, clock=lambda: now[0], keyring=keys.keyring())
    for n in range(100):  # 2 s, then the server is killed: the recorder never closed
        now[0] += 0.02
        recorder.left(bytes(range(160)), "ulaw", 160 * n, 1)
        recorder.tick(now[0])
    sealed = sealed_path(named)
    written = sealed.read_bytes()
    assert recording_file(recordings, str(named)) == sealed  # the reviewer plays it by the row's name meanwhile
    with store.session() as session:  # the crash: closed by the next start's recovery, no after-call job yet
        row = session.get(Attempt, attempt)
        assert row is not None and row.recording_path == str(named)
        row.aftercall = None
    assert sweep_aftercalls(store) == [attempt]  # found under its sealed name, not cleared as missing
    assert AfterCall(store, jobs, keys=keys).enqueue_backlog() == [attempt]
    assert sealed.read_bytes() == written and not named.exists()  # already sealed: left as it is
    with store.reading() as session:
        assert session.get(Attempt, attempt).recording_path == str(sealed)  # type: ignore[union-attr]
    assert jobs.client.hget(f"{jobs.prefix}:job:attempt-{attempt}", "recording") == str(sealed).encode()
    with open_recording(sealed, keys) as source:
        (left, _), _ = read_stereo(source)
    assert len(left) >= (2.0 - 0.5 - 0.2) * RATE  # what was flushed before the crash


def test_the_transcripts_copy_of_record_in_redis_is_sealed(keys: MasterKeys, redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    transcripts = TranscriptStore(client, f"{redis_prefix}:transcript", keys)
    record = RecordingTranscript("attempt-9", "/r/9.wav.sealed", Transcript("en", 3.0, (Segment("agent", 0.1, 2.0,
                                                                                                 WORDS),)))
    assert transcripts.put_once(record)
    stored = client.get(transcripts.key("attempt-9"))
    assert stored is not None and b"police" not in stored and WORDS.encode() not in stored
    found = transcripts.get("attempt-9")
    assert found is not None and found.transcript.segments[0].text == WORDS
    with pytest.raises(NoMasterKey):
        TranscriptStore(client, transcripts.prefix).get("attempt-9")
    client.close()
