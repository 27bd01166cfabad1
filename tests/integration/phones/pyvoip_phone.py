"""A debtor's phone on pyVoIP 1.6 (PyPI): another independent SIP stack for our tests.

pyVoIP always registers first and sends all its SIP to the server it registered with, so the server is
the dialer itself (our registrar). It answers the first call, says DIGITS as in-band DTMF tones through
its public audio API (pyVoIP 1.6 cannot send RFC 4733 events), hangs up after a while, un-registers.
Prints READY, ANSWERED, DTMF_SENT, HANGUP, EXIT <rc>, one per line.
"""

import argparse
import sys
import threading
import time

import numpy as np
from pyVoIP.VoIP import CallState, VoIPPhone

parser = argparse.ArgumentParser()
parser.add_argument("--server-port", type=int, required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--rtp-port", type=int, required=True)
parser.add_argument("--user", default="debtor")
parser.add_argument("--password", required=True)
parser.add_argument("--digits", default="")
parser.add_argument("--hang-up-after", type=float, default=4.0)
parser.add_argument("--max-time", type=float, default=30.0)
args = parser.parse_args()
done = threading.Event()


def say(*words: object) -> None:
    print(*words, flush=True)


def dtmf_bytes(digits: str) -> bytes:
    """The digits as 8 kHz tones, in pyVoIP's audio format (8-bit unsigned linear)."""
    low, high, keys = (697, 770, 852, 941), (1209, 1336, 1477, 1633), ("123A", "456B", "789C", "*0#D")
    n = np.arange(800) / 8000  # 100 ms per tone, then 100 ms of silence
    parts = []
    for digit in digits:
        row = next(i for i, k in enumerate(keys) if digit in k)
        tone = 0.4 * (np.sin(2 * np.pi * low[row] * n) + np.sin(2 * np.pi * high[keys[row].index(digit)] * n))
        parts += [tone, np.zeros(800)]
    return (np.clip(np.concatenate(parts) * 127 + 128, 0, 255)).astype(np.uint8).tobytes()


def on_call(call) -> None:  # type: ignore[no-untyped-def]
    try:
        call.answer()
        say("ANSWERED")
        answered = time.monotonic()
        if args.digits:
            time.sleep(1.0)
            call.write_audio(dtmf_bytes(args.digits))
            say("DTMF_SENT", args.digits)
        while call.state == CallState.ANSWERED and time.monotonic() - answered < args.hang_up_after:
            time.sleep(0.05)
        if call.state == CallState.ANSWERED:
            say("HANGUP")
            call.hangup()
    finally:
        done.set()


phone = VoIPPhone("127.0.0.1", args.server_port, args.user, args.password, myIP="127.0.0.1", callCallback=on_call,
                  sipPort=args.port, rtpPortLow=args.rtp_port, rtpPortHigh=args.rtp_port + 10)
phone.sip.register_timeout = 3
phone.start()
if phone.get_status().value != "REGISTERED":
    say("REGISTER_FAILED", phone.get_status().value)
    phone.stop()
    sys.exit(3)
say("READY")
rc = 0 if done.wait(args.max_time) else 2
time.sleep(0.3)
phone.stop()
say("EXIT", rc)
sys.exit(rc)
