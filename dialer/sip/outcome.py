"""What became of an outbound call, from its final SIP result (the SIP code is always kept beside it)."""

from __future__ import annotations

import enum


class CallResult(enum.StrEnum):
    """The dialer's own word for how a call ended; the campaign layer maps it to an attempt outcome."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    INVALID_NUMBER = "invalid_number"
    UNAVAILABLE = "unavailable"
    NETWORK_ERROR = "network_error"
    CANCELLED = "cancelled"


RESULT_BY_CODE: dict[int, CallResult] = {
    486: CallResult.BUSY, 600: CallResult.BUSY,
    408: CallResult.NO_ANSWER, 480: CallResult.NO_ANSWER,
    487: CallResult.CANCELLED,
    403: CallResult.REJECTED, 603: CallResult.REJECTED, 607: CallResult.REJECTED, 608: CallResult.REJECTED,
    404: CallResult.INVALID_NUMBER, 484: CallResult.INVALID_NUMBER, 604: CallResult.INVALID_NUMBER,
    410: CallResult.INVALID_NUMBER, 416: CallResult.INVALID_NUMBER,
    502: CallResult.NETWORK_ERROR, 504: CallResult.NETWORK_ERROR,
}


def result_for(code: int) -> CallResult:
    if 200 <= code < 300:
        return CallResult.ANSWERED
    if code in RESULT_BY_CODE:
        return RESULT_BY_CODE[code]
    if 500 <= code < 600:
        return CallResult.UNAVAILABLE  # 500, 503 and the rest: the network could not place it now
    return CallResult.REJECTED
