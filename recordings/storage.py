"""Recordings and transcripts at rest: sealed (crypto.sealed) under the installation's master keys.

A call's recording is written plain while the call is up (`dialer.media.recorder`: a killed process loses at
most half a second, which a sealed stream written as it goes could not promise as simply), then sealed when
the call is over: `<attempt>.wav` becomes `<attempt>.wav.sealed` and the plain file is removed. One place does
it, the after-call step (campaigns.aftercall.AfterCall), which the runner calls for every closed call and the
start-up backlog for every recording a crash left behind (or one made while no master key was configured).
The transcript kept beside it is sealed too (`<attempt>.transcript.json.sealed`), and so is its copy of
record in Redis (recordings.transcripts). Readers open either kind through `open_recording`: a plain WAV is
still read (a recording not yet sealed, or a file given to `dunline transcribe`).

What this does not cover: the plain WAV's blocks, once removed, are not scrubbed (the file system and the
disk decide); a recording sealed while its recorder still writes (a call the runner gave up on without
hanging up) loses what is written after the seal.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from crypto import CryptoError, Keyring, MasterKeys, NoMasterKey, SealedReader, is_sealed, key_id_of, rewrap, seal_file
from crypto.sealed import CHUNK_BYTES

SEALED_SUFFIX = ".sealed"


def sealed_path(path: Path) -> Path:
    return path if path.name.endswith(SEALED_SUFFIX) else path.with_name(path.name + SEALED_SUFFIX)


def plain_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(SEALED_SUFFIX))


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
        return io.BufferedReader(SealedReader(path, keys.keyring()), CHUNK_BYTES)  # whole reads, as wave expects
    return open(path, "rb")


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
