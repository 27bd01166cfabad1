import numpy as np

from audio.g711 import decode, encode, transcode


def test_reference_code_points() -> None:
    assert list(decode(bytes([0xFF, 0x7F, 0x00, 0x80]), "ulaw")) == [0, 0, -32124, 32124]
    assert list(decode(bytes([0xD5, 0x55, 0x2A, 0xAA]), "alaw")) == [8, -8, -32256, 32256]
    assert encode(np.array([0], dtype=np.int16), "ulaw") == b"\xff"
    assert encode(np.array([0], dtype=np.int16), "alaw") == b"\xd5"


def test_every_code_survives_decode_then_encode() -> None:
    codes = bytes(range(256))
    ulaw = encode(decode(codes, "ulaw"), "ulaw")
    assert all(a == b or {a, b} == {0x7F, 0xFF} for a, b in zip(ulaw, codes))  # +0 and -0
    assert encode(decode(codes, "alaw"), "alaw") == codes


def test_quantisation_error_is_small_and_transcoding_keeps_the_signal() -> None:
    t = np.arange(8000) / 8000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    for law in ("ulaw", "alaw"):
        back = decode(encode(tone, law), law).astype(float)
        snr = 10 * np.log10(np.sum(tone.astype(float) ** 2) / np.sum((back - tone) ** 2))
        assert snr > 30, (law, snr)
    via_alaw = decode(transcode(encode(tone, "ulaw"), "ulaw", "alaw"), "alaw").astype(float)
    assert np.corrcoef(via_alaw, tone)[0, 1] > 0.999
