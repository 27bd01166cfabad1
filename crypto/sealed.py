"""Sealed files: AES-256-GCM in 64 KiB chunks under a data key of their own, wrapped by a master key.

Layout (big-endian):

    fixed part   magic "DLSEALED", version u16, chunk size u32, plain size u64, file id (16 random bytes)
    key slot     key id length u8, key id (23 bytes, padded), nonce (12), wrapped data key (32 + 16 tag)
    chunks       ceil(plain size / chunk size) of them (one, empty, for an empty file): ciphertext + 16-byte tag

Each chunk has its own nonce (its index; unique because the data key is the file's own) and authenticates the
fixed part and its index, so a range is decrypted without reading the rest, a chunk moved, altered or cut is
refused, and a file cut short (its size disagrees with the plain size every chunk vouches for) is refused
before a byte is served. The key slot is the only part that changes after writing: a key rotation re-wraps
the data key in place (`rewrap`), and destruction (`shred`) overwrites it, after which no key opens what is
left of the file.
"""

from __future__ import annotations

import io
import os
import secrets
import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.errors import SealedFileError
from crypto.keys import KEY_BYTES, MAX_ID_BYTES, Keyring

MAGIC = b"DLSEALED"
VERSION = 1
CHUNK_BYTES = 64 * 1024
TAG_BYTES = 16
_FIXED = struct.Struct(">8sHIQ16s")
_SLOT = struct.Struct(f">B{MAX_ID_BYTES}s12s{KEY_BYTES + TAG_BYTES}s")
HEADER_BYTES = _FIXED.size + _SLOT.size


def _chunks(size: int, chunk: int) -> int:
    return max(1, -(-size // chunk))


def sealed_size(size: int, chunk: int = CHUNK_BYTES) -> int:
    return HEADER_BYTES + size + _chunks(size, chunk) * TAG_BYTES


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _chunk_context(fixed: bytes, index: int) -> bytes:
    return fixed + index.to_bytes(8, "big")


def _slot(keyring: Keyring, data_key: bytes, fixed: bytes) -> bytes:
    key_id, nonce, wrapped = keyring.wrap(data_key, fixed)
    return _SLOT.pack(len(key_id.encode()), key_id.encode(), nonce, wrapped)


def seal_stream(chunks: Iterable[bytes], size: int, target: BinaryIO, keyring: Keyring,
                chunk: int = CHUNK_BYTES) -> None:
    """Write `size` plain bytes, given as `chunk`-sized pieces (the last may be short), sealed to `target`."""
    data_key = AESGCM.generate_key(bit_length=8 * KEY_BYTES)
    fixed = _FIXED.pack(MAGIC, VERSION, chunk, size, secrets.token_bytes(16))
    target.write(fixed + _slot(keyring, data_key, fixed))
    cipher, written, index = AESGCM(data_key), 0, 0
    for piece in chunks:
        if len(piece) != chunk and written + len(piece) != size:
            raise ValueError("every piece but the last must be one chunk long")
        target.write(cipher.encrypt(_nonce(index), piece, _chunk_context(fixed, index)))
        written, index = written + len(piece), index + 1
    if size == 0:
        target.write(cipher.encrypt(_nonce(0), b"", _chunk_context(fixed, 0)))
    elif written != size:
        raise ValueError(f"{written} bytes given for a sealed file of {size}")


def _pieces(source: BinaryIO, chunk: int) -> Iterable[bytes]:
    while piece := source.read(chunk):
        yield piece


def _write_private(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write through a temporary owner-only file renamed into place, so a reader never sees half a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as target:
            write(target)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def seal_file(plain: Path, sealed: Path, keyring: Keyring) -> None:
    """Seal the file `plain` into `sealed` (replaced whole; `plain` is left for the caller to remove)."""
    with open(plain, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        _write_private(sealed, lambda target: seal_stream(_pieces(source, CHUNK_BYTES), size, target, keyring))


def _chunked(data: bytes) -> list[bytes]:
    return [data[at:at + CHUNK_BYTES] for at in range(0, len(data), CHUNK_BYTES)]


def seal_bytes(data: bytes, sealed: Path, keyring: Keyring) -> None:
    _write_private(sealed, lambda target: seal_stream(_chunked(data), len(data), target, keyring))


def seal_to_bytes(data: bytes, keyring: Keyring) -> bytes:
    """`data` sealed in memory (a value kept elsewhere than in a file: a transcript's Redis copy)."""
    target = io.BytesIO()
    seal_stream(_chunked(data), len(data), target, keyring)
    return target.getvalue()


def is_sealed_bytes(data: bytes) -> bool:
    return data[:len(MAGIC)] == MAGIC


def is_sealed(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(len(MAGIC)) == MAGIC
    except (FileNotFoundError, IsADirectoryError):
        return False


def _header(file: BinaryIO, what: str) -> tuple[bytes, int, int, str, bytes, bytes]:
    """(fixed part, chunk size, plain size, key id, nonce, wrapped key)."""
    header = file.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or header[:len(MAGIC)] != MAGIC:
        raise SealedFileError(f"{what} is not a sealed file")
    fixed = header[:_FIXED.size]
    _, version, chunk, size, _ = _FIXED.unpack(fixed)
    if version != VERSION or chunk <= 0:
        raise SealedFileError(f"{what}: sealed-file version {version} (chunk {chunk}) is not one this reads")
    length, key_id, nonce, wrapped = _SLOT.unpack(header[_FIXED.size:])
    if length == 0:
        raise SealedFileError(f"{what} was destroyed: its data key is shredded and no key opens it")
    return fixed, chunk, size, key_id[:length].decode(errors="replace"), nonce, wrapped


def key_id_of(path: Path) -> str:
    """The id of the master key that wraps this file's data key."""
    with open(path, "rb") as file:
        return _header(file, str(path))[3]


class SealedReader(io.RawIOBase):
    """A sealed file (or sealed bytes in memory) read as its plain bytes, seekable: only the chunks a read
    touches are decrypted. Opening checks the size and unwraps the data key, so a truncated file or a wrong key
    fails before any byte."""

    def __init__(self, path: Path | bytes, keyring: Keyring) -> None:
        super().__init__()
        self.path: Path | str = path if isinstance(path, Path) else "<sealed bytes>"
        self._file: BinaryIO = open(path, "rb") if isinstance(path, Path) else io.BytesIO(path)  # noqa: SIM115
        try:
            fixed, self.chunk, self.size, key_id, nonce, wrapped = _header(self._file, str(self.path))
            actual, expected = self._file.seek(0, io.SEEK_END), sealed_size(self.size, self.chunk)
            if actual != expected:
                raise SealedFileError(f"{self.path} is {actual} bytes, not the {expected} its header vouches for: "
                                      "truncated or extended")
            self._cipher = AESGCM(keyring.unwrap(key_id, nonce, wrapped, fixed, str(self.path)))
        except BaseException:
            self._file.close()
            raise
        self.key_id, self._fixed, self._position = key_id, fixed, 0
        self._cached: tuple[int, bytes] | None = None

    def __repr__(self) -> str:  # what a reader's errors name (wave, the transcriber)
        return str(self.path)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def _plain_chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        length = min(self.chunk, self.size - index * self.chunk)
        self._file.seek(HEADER_BYTES + index * (self.chunk + TAG_BYTES))
        sealed = self._file.read(length + TAG_BYTES)
        try:
            plain = self._cipher.decrypt(_nonce(index), sealed, _chunk_context(self._fixed, index))
        except InvalidTag:
            raise SealedFileError(f"{self.path}: chunk {index} fails its authentication: the file was "
                                  "altered") from None
        self._cached = index, plain
        return plain

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._position >= self.size:
            return 0
        index, offset = divmod(self._position, self.chunk)
        piece = memoryview(self._plain_chunk(index))[offset:offset + len(buffer)]
        buffer[:len(piece)] = piece
        self._position += len(piece)
        return len(piece)

    def read_range(self, start: int, length: int) -> bytes:
        self.seek(start)
        out = bytearray()
        while len(out) < length and (piece := self.read(length - len(out))):
            out += piece
        return bytes(out)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def read_sealed(path: Path | bytes, keyring: Keyring) -> bytes:
    with SealedReader(path, keyring) as reader:
        return reader.read_range(0, reader.size)


def rewrap(path: Path, keyring: Keyring) -> bool:
    """Wrap the file's data key with the current master key, in place (the payload is untouched); False when
    it already is. The slot is one small write at a fixed place, flushed to disk before returning."""
    with open(path, "r+b") as file:
        fixed, _, _, key_id, nonce, wrapped = _header(file, str(path))
        if key_id == keyring.current.id:
            return False
        data_key = keyring.unwrap(key_id, nonce, wrapped, fixed, str(path))
        file.seek(_FIXED.size)
        file.write(_slot(keyring, data_key, fixed))
        file.flush()
        os.fsync(file.fileno())
    return True


def shred(path: Path) -> None:
    """Crypto-shred: overwrite the wrapped data key with random bytes (and the key id with none, so a reader
    says the file was destroyed), flush it to disk, then remove the file. What remains of the payload anywhere
    (a disk block, a reader that held the file open) opens with no key."""
    with open(path, "r+b") as file:
        _header(file, str(path))
        file.seek(_FIXED.size)
        file.write(bytes(1 + MAX_ID_BYTES) + secrets.token_bytes(_SLOT.size - 1 - MAX_ID_BYTES))
        file.flush()
        os.fsync(file.fileno())
    path.unlink()
