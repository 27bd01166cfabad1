"""Sealed files: AES-256-GCM under a data key of their own, wrapped by a master key. Two layouts share one header:

    fixed part   magic "DLSEALED", version u16, chunk size u32, plain size u64, file id (16 random bytes)
    key slot     key id length u8, key id (23 bytes, padded), nonce (12), wrapped data key (32 + 16 tag)

Version 1, a whole file sealed at once (`seal_file`, `seal_bytes`): ceil(plain size / chunk size) chunks (one,
empty, for an empty file), each ciphertext + 16-byte tag. Each chunk authenticates the fixed part and its index,
so a range is decrypted without reading the rest, a chunk moved, altered or cut is refused, and a file cut short
(its size disagrees with the plain size every chunk vouches for) is refused before a byte is served.

Version 2, a stream sealed as it is written (`SealedWriter`: a call's recording, flushed twice a second), chunk
and plain size 0 in the header since neither is known when it is written. Then records, each

    u32 plain length (at most CHUNK_BYTES; the top bit set on the final record), ciphertext, 16-byte tag

authenticating the fixed part, its index and whether it is the final one; `close` writes an empty final record.
A writer killed mid-way leaves a file without one, still read up to its last whole record (what a crash
loses is what was not yet appended); so is a file cut short, which is why a reader says whether it found the
final record (`SealedReader.complete`): once a stream is closed, a cut is seen. A record moved or altered
fails its tag when read, bytes after the final record are refused at opening, and a last record that fails its
tag is left out as a torn end (the file then reads as incomplete): no byte is ever served that the writer did
not seal there.

Each chunk or record has its own nonce (its index; unique because the data key is the file's own). The key slot
is the only part that changes after writing: a key rotation re-wraps the data key in place (`rewrap`), and
destruction (`shred`) overwrites it, after which no key opens what is left of the file; both work on a stream
still being written (the writer only ever appends).
"""

from __future__ import annotations

import bisect
import io
import os
import secrets
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.errors import SealedFileError
from crypto.keys import KEY_BYTES, MAX_ID_BYTES, Keyring

MAGIC = b"DLSEALED"
VERSION = 1  # a whole file
STREAM_VERSION = 2  # appended record by record
CHUNK_BYTES = 64 * 1024
TAG_BYTES = 16
SEALED_SUFFIX = ".sealed"
_FIXED = struct.Struct(">8sHIQ16s")
_SLOT = struct.Struct(f">B{MAX_ID_BYTES}s12s{KEY_BYTES + TAG_BYTES}s")
HEADER_BYTES = _FIXED.size + _SLOT.size
_RECORD = struct.Struct(">I")  # a stream record's plain length
FINAL = 1 << 31  # its top bit: the final record


def _chunks(size: int, chunk: int) -> int:
    return max(1, -(-size // chunk))


def sealed_size(size: int, chunk: int = CHUNK_BYTES) -> int:
    return HEADER_BYTES + size + _chunks(size, chunk) * TAG_BYTES


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _chunk_context(fixed: bytes, index: int) -> bytes:
    return fixed + index.to_bytes(8, "big")


def _record_context(fixed: bytes, index: int, final: bool) -> bytes:
    return _chunk_context(fixed, index) + (b"\x01" if final else b"\x00")


def sealed_path(path: Path) -> Path:
    """Where a file is kept sealed: `call.wav` -> `call.wav.sealed`."""
    return path if path.name.endswith(SEALED_SUFFIX) else path.with_name(path.name + SEALED_SUFFIX)


def plain_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(SEALED_SUFFIX))


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


class SealedWriter:
    """A sealed stream (version 2) written as it goes: each `append` is sealed into records and handed to the OS
    in one write, so a process killed at any moment leaves a file that reads up to its last append. Created
    owner-only; `close` writes the final record (without it the file reads as incomplete)."""

    def __init__(self, path: Path, keyring: Keyring) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data_key = AESGCM.generate_key(bit_length=8 * KEY_BYTES)
        self._fixed = _FIXED.pack(MAGIC, STREAM_VERSION, 0, 0, secrets.token_bytes(16))
        self._cipher, self._index = AESGCM(data_key), 0
        self.path = path
        self._descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            self._write(self._fixed + _slot(keyring, data_key, self._fixed))
        except BaseException:
            os.close(self._descriptor)
            raise

    @property
    def closed(self) -> bool:
        return self._descriptor < 0

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._descriptor, view):]

    def _record(self, piece: bytes, final: bool) -> bytes:
        index, self._index = self._index, self._index + 1
        return (_RECORD.pack(len(piece) | (FINAL if final else 0))
                + self._cipher.encrypt(_nonce(index), piece, _record_context(self._fixed, index, final)))

    def append(self, data: bytes) -> None:
        if self.closed:
            raise ValueError(f"{self.path} is closed")
        if data:
            self._write(b"".join(self._record(data[at:at + CHUNK_BYTES], False)
                                 for at in range(0, len(data), CHUNK_BYTES)))

    def close(self) -> None:
        """The final record, then the file closed (handed to the OS, not synced: as the plain recorder did)."""
        if self.closed:
            return
        try:
            self._write(self._record(b"", True))
        finally:
            os.close(self._descriptor)
            self._descriptor = -1


def is_sealed_bytes(data: bytes) -> bool:
    return data[:len(MAGIC)] == MAGIC


def is_sealed(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(len(MAGIC)) == MAGIC
    except (FileNotFoundError, IsADirectoryError):
        return False


@dataclass(frozen=True)
class _Header:
    fixed: bytes
    version: int
    chunk: int
    size: int
    key_id: str
    nonce: bytes
    wrapped: bytes


def _header(file: BinaryIO, what: str) -> _Header:
    header = file.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or header[:len(MAGIC)] != MAGIC:
        raise SealedFileError(f"{what} is not a sealed file")
    fixed = header[:_FIXED.size]
    _, version, chunk, size, _ = _FIXED.unpack(fixed)
    if not (version == VERSION and chunk > 0 or version == STREAM_VERSION and chunk == size == 0):
        raise SealedFileError(f"{what}: sealed-file version {version} (chunk {chunk}) is not one this reads")
    length, key_id, nonce, wrapped = _SLOT.unpack(header[_FIXED.size:])
    if length == 0:
        raise SealedFileError(f"{what} was destroyed: its data key is shredded and no key opens it")
    return _Header(fixed, version, chunk, size, key_id[:length].decode(errors="replace"), nonce, wrapped)


def key_id_of(path: Path) -> str:
    """The id of the master key that wraps this file's data key."""
    with open(path, "rb") as file:
        return _header(file, str(path)).key_id


@dataclass(frozen=True)
class _Piece:
    """A chunk (version 1) or record (version 2): where its plain bytes start, where its ciphertext lies."""
    start: int
    offset: int
    length: int
    final: bool = False


def _chunk_pieces(header: _Header, actual: int, what: str) -> list[_Piece]:
    expected = sealed_size(header.size, header.chunk)
    if actual != expected:
        raise SealedFileError(f"{what} is {actual} bytes, not the {expected} its header vouches for: truncated or "
                              "extended")
    return [_Piece(start, HEADER_BYTES + index * (header.chunk + TAG_BYTES), min(header.chunk, header.size - start))
            for index, start in enumerate(range(0, max(header.size, 1), header.chunk))]


def _record_pieces(file: BinaryIO, actual: int, what: str) -> list[_Piece]:
    """The stream's whole records, as their prefixes say; it ends at the final record, at a record cut short
    (a writer killed mid-write, a file cut) or at a prefix no writer makes."""
    pieces: list[_Piece] = []
    start, offset = 0, HEADER_BYTES
    file.seek(offset)
    while offset + _RECORD.size <= actual:
        (word,) = _RECORD.unpack(file.read(_RECORD.size))
        length, final = word & ~FINAL, bool(word & FINAL)
        end = offset + _RECORD.size + length + TAG_BYTES
        if length > CHUNK_BYTES or end > actual:
            break
        pieces.append(_Piece(start, offset + _RECORD.size, length, final))
        start, offset = start + length, end
        if final:
            if offset != actual:
                raise SealedFileError(f"{what} goes on {actual - offset} bytes past its final record: extended")
            break
        file.seek(offset)
    return pieces


class SealedReader(io.RawIOBase):
    """A sealed file (or sealed bytes in memory) read as its plain bytes, seekable: only the chunks or records a
    read touches are decrypted. Opening checks the layout and unwraps the data key, so a wrong key, or a whole
    file truncated, fails before any byte; a stream (version 2) is read up to its last whole record, and
    `complete` says whether that is its final one."""

    def __init__(self, path: Path | bytes, keyring: Keyring) -> None:
        super().__init__()
        self.path: Path | str = path if isinstance(path, Path) else "<sealed bytes>"
        self._file: BinaryIO = open(path, "rb") if isinstance(path, Path) else io.BytesIO(path)  # noqa: SIM115
        try:
            header = _header(self._file, str(self.path))
            actual = self._file.seek(0, io.SEEK_END)
            self._pieces = (_chunk_pieces(header, actual, str(self.path)) if header.version == VERSION
                            else _record_pieces(self._file, actual, str(self.path)))
            self._cipher = AESGCM(keyring.unwrap(header.key_id, header.nonce, header.wrapped, header.fixed,
                                                 str(self.path)))
        except BaseException:
            self._file.close()
            raise
        self.key_id, self.version, self._fixed, self._position = header.key_id, header.version, header.fixed, 0
        self._cached: tuple[int, bytes] | None = None
        self.complete = header.version == VERSION
        if header.version == STREAM_VERSION and self._pieces:
            try:
                self._plain_piece(len(self._pieces) - 1)  # the last record checked now, the others as read
                self.complete = self._pieces[-1].final
            except SealedFileError:
                self._pieces.pop()  # a torn end: left out, and the file reads as incomplete
        last = self._pieces[-1] if self._pieces else None
        self.size = last.start + last.length if last else 0
        self._starts = [piece.start for piece in self._pieces]

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

    def _plain_piece(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        piece = self._pieces[index]
        self._file.seek(piece.offset)
        sealed = self._file.read(piece.length + TAG_BYTES)
        context = (_chunk_context(self._fixed, index) if self.version == VERSION
                   else _record_context(self._fixed, index, piece.final))
        try:
            plain = self._cipher.decrypt(_nonce(index), sealed, context)
        except InvalidTag:
            what = "chunk" if self.version == VERSION else "record"
            raise SealedFileError(f"{self.path}: {what} {index} fails its authentication: the file was "
                                  "altered") from None
        self._cached = index, plain
        return plain

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._position >= self.size:
            return 0
        index = bisect.bisect_right(self._starts, self._position) - 1
        offset = self._position - self._pieces[index].start
        piece = memoryview(self._plain_piece(index))[offset:offset + len(buffer)]
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
        header = _header(file, str(path))
        if header.key_id == keyring.current.id:
            return False
        data_key = keyring.unwrap(header.key_id, header.nonce, header.wrapped, header.fixed, str(path))
        file.seek(_FIXED.size)
        file.write(_slot(keyring, data_key, header.fixed))
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
