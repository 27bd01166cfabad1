"""G.711 mu-law and A-law (ITU-T G.711) as lookup tables, for transcoding between legs and for recording.

Decoding is a 256-entry table; encoding a 65,536-entry table indexed by the 16-bit sample, so both are one
numpy `take` per 20 ms frame.
"""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_CLIP = 32635


def _ulaw_decode(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return -magnitude if sign else magnitude


def _ulaw_encode(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _CLIP) + _BIAS
    exponent = max(0, magnitude.bit_length() - 8)
    exponent = min(exponent, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _alaw_decode(byte: int) -> int:
    byte ^= 0x55
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if sign else -magnitude


def _alaw_encode(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample), 32767) >> 3  # 13-bit
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = min(magnitude.bit_length() - 5, 7)
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


_SAMPLES = np.arange(-32768, 32768)
ULAW_DECODE = np.array([_ulaw_decode(b) for b in range(256)], dtype=np.int16)
ALAW_DECODE = np.array([_alaw_decode(b) for b in range(256)], dtype=np.int16)
ULAW_ENCODE = np.array([_ulaw_encode(int(s)) for s in _SAMPLES], dtype=np.uint8)
ALAW_ENCODE = np.array([_alaw_encode(int(s)) for s in _SAMPLES], dtype=np.uint8)
ULAW_TO_ALAW = ALAW_ENCODE[ULAW_DECODE.astype(np.int32) + 32768]
ALAW_TO_ULAW = ULAW_ENCODE[ALAW_DECODE.astype(np.int32) + 32768]


def decode(payload: bytes, law: str) -> np.ndarray:
    table = ULAW_DECODE if law == "ulaw" else ALAW_DECODE
    return table[np.frombuffer(payload, dtype=np.uint8)]


def encode(pcm: np.ndarray, law: str) -> bytes:
    table = ULAW_ENCODE if law == "ulaw" else ALAW_ENCODE
    return table[pcm.astype(np.int32) + 32768].tobytes()


_ULAW_TO_ALAW_BYTES, _ALAW_TO_ULAW_BYTES = ULAW_TO_ALAW.tobytes(), ALAW_TO_ULAW.tobytes()


def transcode(payload: bytes, source: str, target: str) -> bytes:
    """PCMU <-> PCMA without going through samples: `bytes.translate` through a 256-byte table (0.5 µs a
    packet, against 6 µs for the same lookup through numpy, whose per-call cost dominates at 160 bytes)."""
    if source == target:
        return payload
    return payload.translate(_ULAW_TO_ALAW_BYTES if source == "ulaw" else _ALAW_TO_ULAW_BYTES)
