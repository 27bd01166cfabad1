"""Sealed streams (crypto.sealed, version 2): read up to the last whole record while written or after the writer
was killed, a closed stream known complete and one cut short known not to be, a record moved, altered or cut
refused (no byte served that the writer did not seal at that place), whole sealed files (version 1) still
read, and a key rotation or a destruction working on a stream as on a whole file, also while it is written."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from crypto import (
    CryptoError,
    Keyring,
    MasterKey,
    SealedFileError,
    SealedReader,
    SealedWriter,
    key_id_of,
    read_sealed,
    rewrap,
    seal_file,
    shred,
)
from crypto.sealed import CHUNK_BYTES, FINAL, HEADER_BYTES, STREAM_VERSION, TAG_BYTES, VERSION

PIECES = [os.urandom(1000), os.urandom(1000), os.urandom(1000), os.urandom(500)]
PLAIN = b"".join(PIECES)
PREFIX = 4  # a record's plain length


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([MasterKey("k1", os.urandom(32))])


def stream(path: Path, keyring: Keyring, *, close: bool = True) -> SealedWriter:
    writer = SealedWriter(path, keyring)
    for piece in PIECES:
        writer.append(piece)
    if close:
        writer.close()
    return writer


def records(data: bytes) -> list[tuple[int, int]]:
    """(offset, length on disk) of each record of a sealed stream's bytes."""
    found, offset = [], HEADER_BYTES
    while offset < len(data):
        (word,) = struct.unpack(">I", data[offset:offset + PREFIX])
        size = PREFIX + (word & ~FINAL) + TAG_BYTES
        found.append((offset, size))
        offset += size
    return found


def served(path: Path, keyring: Keyring) -> tuple[bytes, bool]:
    """What a reader serves of the file, read to its end, and whether it found the final record."""
    with SealedReader(path, keyring) as reader:
        return reader.read_range(0, reader.size), reader.complete


def test_a_stream_reads_while_written_and_whole_once_closed(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "a.sealed"
    writer = stream(path, keyring, close=False)
    assert not any(piece[:64] in path.read_bytes() for piece in PIECES)  # nothing in clear
    assert served(path, keyring) == (PLAIN, False)  # so far, not yet final
    writer.append(bytes(CHUNK_BYTES + 10))  # a long append: records of at most one chunk
    writer.close()
    assert served(path, keyring) == (PLAIN + bytes(CHUNK_BYTES + 10), True)
    with SealedReader(path, keyring) as reader:
        assert reader.version == STREAM_VERSION
        assert reader.read_range(990, 20) == PLAIN[990:1010]  # across two records
        assert reader.read_range(len(PLAIN) - 5, 10) == PLAIN[-5:] + bytes(5)
    with pytest.raises(ValueError, match="closed"):
        writer.append(b"more")
    empty = tmp_path / "empty.sealed"
    SealedWriter(empty, keyring).close()
    assert served(empty, keyring) == (b"", True)


def test_a_stream_cut_short_reads_to_its_last_whole_record_and_says_it_is_incomplete(tmp_path: Path,
                                                                                    keyring: Keyring) -> None:
    path = tmp_path / "a.sealed"
    stream(path, keyring)
    whole = path.read_bytes()
    marks = records(whole)
    assert len(marks) == len(PIECES) + 1  # and the final, empty one
    for record, (offset, size) in enumerate(marks):
        for cut in (offset, offset + 1, offset + PREFIX + 3, offset + size - 1):  # at and within the record
            path.write_bytes(whole[:cut])
            assert served(path, keyring) == (b"".join(PIECES[:record]), False), (record, cut)
    path.write_bytes(whole[:HEADER_BYTES])
    assert served(path, keyring) == (b"", False)
    path.write_bytes(whole[:HEADER_BYTES - 1])
    with pytest.raises(SealedFileError, match="not a sealed file"):
        SealedReader(path, keyring)


def test_a_moved_altered_or_added_record_is_refused_for_its_part(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "a.sealed"
    stream(path, keyring)
    whole = path.read_bytes()
    (first, size1), (second, size2), (third, _), _, (final, _) = records(whole)
    assert size1 == size2
    path.write_bytes(whole[:second] + whole[third:third + size2] + whole[second:third] + whole[third + size2:])
    with SealedReader(path, keyring) as reader:  # records 1 and 2 swapped
        assert reader.complete and reader.read_range(0, 1000) == PIECES[0]
        with pytest.raises(SealedFileError, match="record 1 fails its authentication"):
            reader.read_range(1000, 10)
    path.write_bytes(whole[:second] + whole[second + size2:])  # record 1 removed: record 2 is not where it was
    with SealedReader(path, keyring) as reader, pytest.raises(SealedFileError, match="record 1"):
        reader.read_range(1000, 10)
    path.write_bytes(whole + whole[second:second + size2])  # a record added after the final one
    with pytest.raises(SealedFileError, match="past its final record"):
        SealedReader(path, keyring)
    not_final = bytearray(whole)
    not_final[final] &= 0x7F  # the final record marked as any other: its tag fails, the end is unproven
    path.write_bytes(not_final)
    assert served(path, keyring) == (PLAIN, False)
    forged_end = bytearray(whole[:third])
    forged_end[second] |= 0x80  # cut after record 1, which is then marked final: its tag says it was not
    path.write_bytes(forged_end)
    assert served(path, keyring) == (PIECES[0], False)
    early = bytearray(whole)
    early[first] |= 0x80  # the first record marked final
    path.write_bytes(early)
    with pytest.raises(SealedFileError, match="past its final record"):
        SealedReader(path, keyring)


def test_no_one_byte_change_anywhere_makes_a_reader_serve_a_byte_that_was_not_written(tmp_path: Path,
                                                                                      keyring: Keyring) -> None:
    path = tmp_path / "a.sealed"
    stream(path, keyring)
    whole = path.read_bytes()
    step = 7  # a byte every few across the whole file: header, key slot, prefixes, ciphertexts, tags
    for at in [*range(0, len(whole), step), len(whole) - 1]:
        altered = bytearray(whole)
        altered[at] ^= 0x41
        path.write_bytes(altered)
        try:
            reader = SealedReader(path, keyring)
        except CryptoError:
            continue
        with reader:
            out = bytearray()
            try:
                while piece := reader.read(4096):
                    out += piece
            except SealedFileError:
                pass
        assert PLAIN.startswith(bytes(out)), at  # whatever is served is what was written there


def test_a_whole_sealed_file_of_version_1_still_reads(tmp_path: Path, keyring: Keyring) -> None:
    plain = tmp_path / "a.wav"
    plain.write_bytes(PLAIN * 50)  # several chunks
    sealed = tmp_path / "a.wav.sealed"
    seal_file(plain, sealed, keyring)
    with SealedReader(sealed, keyring) as reader:
        assert reader.version == VERSION and reader.complete and reader.size == len(PLAIN) * 50
        assert reader.read_range(CHUNK_BYTES - 3, 6) == (PLAIN * 50)[CHUNK_BYTES - 3:CHUNK_BYTES + 3]
    assert read_sealed(sealed, keyring) == PLAIN * 50


def test_a_stream_is_rewrapped_and_shredded_also_while_it_is_written(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "a.sealed"
    writer = stream(path, keyring, close=False)
    rotated = Keyring([MasterKey("k2", os.urandom(32)), keyring.current])
    assert rewrap(path, rotated) is True and rewrap(path, rotated) is False
    writer.append(b"after the rotation")
    writer.close()
    assert key_id_of(path) == "k2"
    new_only = Keyring([rotated.current])  # the old key dropped
    assert served(path, new_only) == (PLAIN + b"after the rotation", True)

    copy = tmp_path / "b.sealed"
    os.link(path, copy)  # what remains elsewhere of the file (another name, a block on the disk)
    shred(path)
    assert not path.exists()
    with pytest.raises(SealedFileError, match="destroyed"):
        SealedReader(copy, rotated)

    live = tmp_path / "live.sealed"
    writer = stream(live, keyring, close=False)
    os.link(live, tmp_path / "live-copy.sealed")
    shred(live)  # destroyed mid-call: what the writer goes on appending opens with no key either
    writer.append(b"more")
    writer.close()
    with pytest.raises(SealedFileError, match="destroyed"):
        SealedReader(tmp_path / "live-copy.sealed", keyring)
