"""A debtor's phone on PJSUA2 (PyPI pjsua2-python, PJSIP 2.15): an independent SIP stack for our tests.

Listens on 127.0.0.1:PORT with a null sound device, answers the first call (optionally ringing first),
plays a WAV into it, sends DIGITS as RFC 4733 events once the call is confirmed, hangs up after a while.
Prints READY, CONFIRMED, DTMF_SENT, HANGUP, DISCONNECTED <code>, EXIT <rc>, one per line.
Single-threaded (threadCnt=0, libHandleEvents polling): no Python callbacks from PJSIP's threads.
"""

import argparse
import sys
import time

import pjsua2 as pj

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--rtp-port", type=int, required=True)
parser.add_argument("--ring-ms", type=int, default=0)
parser.add_argument("--digits", default="")
parser.add_argument("--digits-after", type=float, default=1.0)
parser.add_argument("--hang-up-after", type=float, default=4.0)
parser.add_argument("--play", default="")
parser.add_argument("--max-time", type=float, default=30.0)
args = parser.parse_args()
state: dict = {"call": None, "confirmed": None, "answer_at": None, "digits_sent": False, "hung_up": False, "done": False}


def say(*words: object) -> None:
    print(*words, flush=True)


class Call(pj.Call):
    def __init__(self, account: pj.Account, call_id: int) -> None:
        super().__init__(account, call_id)
        self.player = None

    def onCallState(self, prm: object) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            state["confirmed"] = time.monotonic()
            say("CONFIRMED")
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            say("DISCONNECTED", info.lastStatusCode)
            state["done"] = True

    def onCallMediaState(self, prm: object) -> None:
        info = self.getInfo()  # kept: `.media` points into it (a temporary would be freed under us)
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE and args.play \
                    and self.player is None:
                self.player = pj.AudioMediaPlayer()
                self.player.createPlayer(args.play)
                self.player.startTransmit(self.getAudioMedia(media.index))


class Account(pj.Account):
    def onIncomingCall(self, prm: object) -> None:
        call = Call(self, prm.callId)
        answer = pj.CallOpParam()
        if state["call"] is not None:
            answer.statusCode = 486
            call.hangup(answer)
            return
        state["call"] = call
        answer.statusCode = 180 if args.ring_ms else 200
        call.answer(answer)
        if args.ring_ms:
            state["answer_at"] = time.monotonic() + args.ring_ms / 1000


endpoint = pj.Endpoint()
endpoint.libCreate()
config = pj.EpConfig()
config.uaConfig.threadCnt, config.uaConfig.mainThreadOnly = 0, True
config.logConfig.level = config.logConfig.consoleLevel = 1
config.medConfig.clockRate = config.medConfig.sndClockRate = 8000
endpoint.libInit(config)
transport = pj.TransportConfig()
transport.port, transport.boundAddress, transport.publicAddress = args.port, "127.0.0.1", "127.0.0.1"
endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
endpoint.libStart()
endpoint.audDevManager().setNullDev()
for codec in endpoint.codecEnum2():
    endpoint.codecSetPriority(codec.codecId, 255 if codec.codecId.startswith(("PCMU/", "PCMA/")) else 0)
account_config = pj.AccountConfig()
account_config.idUri = f"sip:debtor@127.0.0.1:{args.port}"
account_config.regConfig.registerOnAdd = False
media = account_config.mediaConfig.transportConfig
media.boundAddress, media.publicAddress, media.port = "127.0.0.1", "127.0.0.1", args.rtp_port
account = Account()
account.create(account_config)
account.setDefault()
say("READY")

rc = 2
started = time.monotonic()
try:
    while time.monotonic() - started < args.max_time:
        endpoint.libHandleEvents(10)
        call, now = state["call"], time.monotonic()
        if state["done"]:
            rc = 0
            break
        if call is None:
            continue
        if state["answer_at"] and now >= state["answer_at"]:
            state["answer_at"] = None
            answer = pj.CallOpParam()
            answer.statusCode = 200
            call.answer(answer)
        if state["confirmed"] is None:
            continue
        if args.digits and not state["digits_sent"] and now - state["confirmed"] >= args.digits_after:
            state["digits_sent"] = True
            call.dialDtmf(args.digits)
            say("DTMF_SENT", args.digits)
        if args.hang_up_after >= 0 and not state["hung_up"] and now - state["confirmed"] >= args.hang_up_after:
            state["hung_up"] = True
            say("HANGUP")
            call.hangup(pj.CallOpParam())
    for _ in range(20):
        endpoint.libHandleEvents(10)
finally:
    state["call"] = call = None
    account.shutdown()
    endpoint.libDestroy()
    say("EXIT", rc)
sys.exit(rc)
