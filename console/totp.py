"""The TOTP second factor (RFC 6238: 30-second steps, 6 digits, HMAC-SHA-1, which every authenticator app
reads), on pyotp. Pure: the time is given. A code is accepted for the step before and after the current one
(clocks drift), and `verify` names the step it matched so that the caller can refuse a code used before.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "Dunline"
STEP_S = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, RFC 4226's recommended key length


def provisioning_uri(secret: str, username: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app enrols from (typed in or pasted; no QR code here)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def verify(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code `code` is (within DRIFT_STEPS of `at`'s), or None."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    step = int(at.timestamp()) // STEP_S
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None
