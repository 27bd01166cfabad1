"""Recordings and transcripts at rest: sealed (crypto.sealed) under the installation's master keys.

A call's recording is sealed as it is written when the process has master keys (`dialer.media.recorder`,
given the keyring by the switchboard): `<attempt>.wav.sealed`, a sealed stream of the WAV header and one record
per flush, so speech never lies on disk in clear, during the call or after a crash, and a killed process still
loses at most the last half second (the stream reads up to its last whole record). The after-call step
(campaigns.aftercall.AfterCall) then finds it sealed already. A recording made plain (no master key when the
call began: `<attempt>.wav`) is sealed when the call is over, by the same step, which the runner calls for
every closed call and the start-up backlog for every recording a crash left behind: the whole file into
`<attempt>.wav.sealed`, the plain file removed. The transcript kept beside it is sealed too
(`<attempt>.transcript.json.sealed`), and so is its copy of record in Redis (recordings.transcripts).

Readers open every kind through `open_recording`, by either name: a streamed recording as a WAV whose sizes
are those of what was sealed (its header went out before they were known), also while its call goes on; a
whole sealed file; a plain WAV (a recording not yet sealed, or a file given to `dunline transcribe`).

What this does not cover: a plain WAV's blocks, once removed, are not scrubbed (the file system and the disk
decide), and a plain one sealed while its recorder still writes (a call the runner gave up on without hanging
up) loses what is written after the seal; a streamed recording is handed to the OS at each flush, not synced to
the disk, as the plain one was.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from audio.wav import HEADER_BYTES, resized
from crypto import CryptoError, Keyring, MasterKeys, NoMasterKey, SealedReader, is_sealed, key_id_of, rewrap, seal_file
from crypto.sealed import CHUNK_BYTES, SEALED_SUFFIX, STREAM_VERSION, plain_path, sealed_path

__all__ = ["SEALED_SUFFIX", "Rotation", "keys_in_use", "open_recording", "plain_path", "recording_exists",
           "rewrap_all", "seal_recording", "sealed_files", "sealed_path"]


def recording_exists(path: Path) -> bool:
    """Whether a recording is on disk under either name (a row names `<attempt>.wav` before its call is made,
    and its recorder may seal it as written)."""
    return plain_path(path).exists() or sealed_path(path).exists()


def seal_recording(path: Path, keyring: Keyring) -> Path:
    """Seal a finished recording and remove the plain file; the sealed path. Idempotent: a recording already
    sealed is left as it is, and one sealed by a process killed before it removed the plain file is sealed
    again from the plain file."""
    sealed = sealed_path(path)
    plain = plain_path(path)
    if not plain.exists():
        if sealed.exists():
            return sealed
        raise FileNotFoundError(f"no recording at {plain} or {sealed}")
    seal_file(plain, sealed, keyring)
    plain.unlink()
    return sealed


def open_recording(path: Path, keys: MasterKeys | None) -> BinaryIO:
    """The recording's plain bytes, decrypted as read when it is sealed; seekable. A path named before its
    recording was sealed finds the sealed file. NoMasterKey for a sealed file when no keys are given."""
    if not path.exists() and sealed_path(path).exists():
        path = sealed_path(path)
    if is_sealed(path):
        if keys is None:
            raise NoMasterKey(f"{path} is sealed and this process was given no master keys")
        reader: io.RawIOBase = SealedReader(path, keys.keyring())
        if reader.version == STREAM_VERSION:
            reader = _SizedWav.of(reader)
        return io.BufferedReader(reader, CHUNK_BYTES)  # whole reads, as wave expects
    return open(path, "rb")


class _SizedWav(io.RawIOBase):
    """A streamed recording read with its header's sizes set to what the stream holds: up to the last flush
    of a call still going on or of a recorder killed, all of it once closed."""

    def __init__(self, reader: SealedReader, head: bytes) -> None:
        super().__init__()
        self._reader, self._head, self._position = reader, head, 0

    @classmethod
    def of(cls, reader: SealedReader) -> io.RawIOBase:
        """`reader` with its WAV header resized; as it is when it holds no whole header of ours."""
        head = resized(reader.read_range(0, HEADER_BYTES), reader.size - HEADER_BYTES)
        return reader if head is None else cls(reader, head)

    def __repr__(self) -> str:
        return repr(self._reader)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = self._reader.seek(offset, whence)
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._position < HEADER_BYTES:
            piece = self._head[self._position:self._position + len(buffer)]
            buffer[:len(piece)] = piece
            count = len(piece)
        else:
            self._reader.seek(self._position)
            count = self._reader.readinto(buffer)
        self._position += count
        return count

    def close(self) -> None:
        self._reader.close()
        super().close()


def sealed_files(root: Path) -> Iterator[Path]:
    """Every sealed recording and transcript under `root` (the recordings directory)."""
    return (path for path in sorted(root.rglob(f"*{SEALED_SUFFIX}")) if path.is_file())


def keys_in_use(root: Path) -> Counter[str]:
    """How many sealed files each master key id wraps."""
    return Counter(key_id_of(path) for path in sealed_files(root))


@dataclass
class Rotation:
    rewrapped: int = 0
    current: int = 0  # already wrapped by the current key
    failed: dict[str, str] = field(default_factory=dict)  # path -> why (a key missing, a damaged header)


def rewrap_all(root: Path, keyring: Keyring) -> Rotation:
    """Re-wrap every sealed file's data key with the current master key (the payload untouched: each file is
    one small in-place write, so a server serving the files meanwhile goes on)."""
    rotation = Rotation()
    for path in sealed_files(root):
        try:
            if rewrap(path, keyring):
                rotation.rewrapped += 1
            else:
                rotation.current += 1
        except (CryptoError, OSError) as error:
            rotation.failed[str(path)] = str(error)
    return rotation
