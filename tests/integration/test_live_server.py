"""Issue 15's acceptance: `dunline serve` as a live call centre with every peer real, on 127.0.0.1.

SIPp plays the carrier behind the trunk (`sipp/carrier.xml`: by the number's last digit a person answers and
speaks, the line is busy, or it rings without answer); two baresip softphones register as agents and are set
ready over the API with their own tokens; a campaign is created and started over HTTP with a token minted by
`dunline users token`. Serve places the calls, bridges the people to baresip, records them, and its
transcription worker transcribes and screens each recording. Nothing here is a stand-in for a part of Dunline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import numpy as np
import redis
from pydantic import SecretStr
from sqlalchemy import select

from audio.wav import read_pcm
from cases import Store, migrate
from cases.models import AfterCallState, Attempt, AttemptOutcome, Role, User
from console import tokens
from dialer.simulate.pstn import VOICES
from dunline.settings import Settings
from dunline.telephony import agent_sip_password
from crypto import KEY_FILE, ensure_key_file
from dunline.installation import master_keys
from recordings.storage import open_recording
from recordings.transcripts import read_transcript_file, transcript_file
from tests.campaigns.test_campaign_run import NUMBERS, seed
from tests.conftest import require
from tests.dunline.test_server import AT
from tests.integration.peers import Baresip, SippCarrier, free_port, write_rtp_pcap
from tests.sound import contains_part_of, read_stereo

DUNLINE = str(Path(sys.executable).parent / "dunline")
SCENARIO = Path(__file__).parent / "sipp" / "carrier.xml"
REDIS_URL = "redis://127.0.0.1:6379/13"  # this test's own: the worker must see only this floor's jobs
SIP_SECRET = "a-long-agent-sip-secret-for-the-acceptance-test"
AGENTS = ("agent1", "agent2")
HELLO, GREETING, AGENT_SPEECH = (read_pcm(VOICES / f"{name}.wav") for name in
                                 ("debtor-hello", "debtor-greeting", "agent-speech"))
# A person: "hello" and a pause (answering-machine detection takes that for a person), then talk for the agent.
DEBTOR_SPEECH = np.concatenate([HELLO, np.zeros(12000, np.int16), GREETING, np.zeros(4000, np.int16), GREETING])
TALK_MS = 10_000  # the debtor hangs up after this
BY_LAST_DIGIT = {"4": AttemptOutcome.BUSY, "5": AttemptOutcome.NO_ANSWER}  # as the scenario decides


def expected_outcome(number: str) -> AttemptOutcome:
    return BY_LAST_DIGIT.get(number[-1], AttemptOutcome.ANSWERED)


def environment(data: Path, trunk: tuple[str, int], sip_port: int, http_port: int) -> dict[str, str]:
    return {**os.environ, "DUNLINE_DATA_DIR": str(data), "DUNLINE_SECRET_KEY": "a-long-console-secret-for-tests",
            "DUNLINE_AGENT_SIP_SECRET": SIP_SECRET, "DUNLINE_REDIS_URL": REDIS_URL,
            "DUNLINE_TRUNK_HOST": trunk[0], "DUNLINE_TRUNK_PORT": str(trunk[1]), "DUNLINE_SIP_PORT": str(sip_port),
            "DUNLINE_HTTP_PORT": str(http_port), "DUNLINE_RING_TIMEOUT_S": "15", "DUNLINE_DRAIN_S": "5",
            "DUNLINE_TRANSCRIPTION_WORKERS": "1"}


def add_users(store: Store) -> str:
    """The floor's users, and an administrator whose API token (returned) the CLI acts with."""
    with store.session() as session:
        session.add(User(username="manager", display_name="manager", role=Role.CAMPAIGN_MANAGER))
        session.add_all(User(username=name, display_name=name, role=Role.AGENT) for name in AGENTS)
        admin = User(username="root", display_name="root", role=Role.ADMIN)
        session.add(admin)
        session.flush()
        return tokens.mint(session, admin, actor="test", now=datetime.now(timezone.utc)).token


async def minted_token(env: dict[str, str], username: str) -> str:
    """A token minted as an administrator would: `dunline users token NAME` prints it on its last line."""
    process = await asyncio.create_subprocess_exec(DUNLINE, "users", "token", username, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    assert process.returncode == 0, output
    return output.split()[-1]


def attempts(store: Store) -> list[Attempt]:
    with store.reading() as session:
        rows = list(session.scalars(select(Attempt).order_by(Attempt.id)))
        session.expunge_all()
    return rows


def settled(rows: list[Attempt]) -> bool:
    """Every case dialled, every call over, every answered call's after-call step done."""
    return ({a.number_e164 for a in rows} == set(NUMBERS) and
            all(a.outcome is not AttemptOutcome.IN_FLIGHT for a in rows) and
            all(a.aftercall is AfterCallState.DONE for a in rows if a.outcome is AttemptOutcome.ANSWERED))


def agent_ids_by_name(store: Store) -> dict[str, int]:
    with store.reading() as session:
        return {user.username: user.id for user in session.scalars(select(User).where(User.username.in_(AGENTS)))}


def kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str, tokens: dict[str, str]) -> None:
        self.session, self.base, self.tokens = session, base, tokens

    async def post(self, path: str, user: str, body: object = None) -> dict:  # type: ignore[type-arg]
        async with self.session.post(self.base + path, json=body,
                                     headers={"Authorization": f"Bearer {self.tokens[user]}"}) as response:
            assert response.status in (200, 201), (path, response.status, await response.text())
            return await response.json()  # type: ignore[no-any-return]


async def test_item_15_acceptance_sipp_carrier_baresip_agents_calls_answered_bridged_recorded_transcribed(
        tmp_path: Path) -> None:
    require("sipp", "baresip")
    redis.Redis.from_url(REDIS_URL).flushdb()
    store = Store(f"sqlite:///{tmp_path / 'dunline.db'}")
    migrate.upgrade(store.engine)
    ensure_key_file(tmp_path / KEY_FILE)  # as `dunline db upgrade` leaves an installation: records sealed at rest
    seed(store)  # five debtors in California: ...101-103 answer, ...104 is busy, ...105 does not answer
    admin = add_users(store)
    speech = tmp_path / "debtor.pcap"
    write_rtp_pcap(speech, DEBTOR_SPEECH)
    scenario = SCENARIO.read_text().replace("SPEECH", str(speech)).replace("TALK_MS", str(TALK_MS))
    sip_port, http_port = free_port(), free_port(socket.SOCK_STREAM)
    settings = Settings(agent_sip_secret=SecretStr(SIP_SECRET))
    log = tmp_path / "serve.log"
    async with contextlib.AsyncExitStack() as stack:
        carrier = await stack.enter_async_context(SippCarrier(tmp_path / "sipp", scenario))
        env = environment(tmp_path, carrier.address, sip_port, http_port)
        tokens = dict(zip(["manager", *AGENTS], await asyncio.gather(
            *(minted_token({**env, "DUNLINE_TOKEN": admin}, user) for user in ["manager", *AGENTS]))))
        serve = subprocess.Popen([DUNLINE, "serve", "--at", AT], env=env, stdout=log.open("w"),
                                 stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(kill_group, serve)

        async def until(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
            deadline = time.monotonic() + seconds
            while not condition():
                assert serve.poll() is None, (what, log.read_text()[-3000:])
                assert time.monotonic() < deadline, (f"timed out waiting for {what}", log.read_text()[-3000:],
                                                      carrier.errors())
                await asyncio.sleep(0.2)

        await until(lambda: "dunline serving" in log.read_text(), 30, "serve to start")
        phones = {name: await stack.enter_async_context(
            Baresip(tmp_path / name, name, agent_sip_password(settings, name), ("127.0.0.1", sip_port),
                    AGENT_SPEECH)) for name in AGENTS}
        api = Api(await stack.enter_async_context(aiohttp.ClientSession()), f"http://127.0.0.1:{http_port}", tokens)
        ready: dict[str, str] = {}
        deadline = time.monotonic() + 15  # until each phone has registered and its nailed-up leg is up
        while set(ready.values()) != {"ready"}:
            assert time.monotonic() < deadline, (ready, log.read_text()[-3000:])
            ready = {name: (await api.post(f"/api/agents/{name}/state", name, {"state": "ready"}))["state"]
                     for name in AGENTS}
            await asyncio.sleep(0.2)

        created = await api.post("/api/campaigns", "manager",
                                 {"name": "acceptance", "segment": {"jurisdictions": ["US"]},
                                  "dial_mode": "progressive", "agent_group": "collectors"})
        await api.post(f"/api/campaigns/{created['id']}/start", "manager")
        await until(lambda: settled(attempts(store)), 75, "every call placed, ended and worked after the call")
        for phone in phones.values():
            await phone.quit()  # baresip closes its recordings

    rows = attempts(store)
    assert sorted(a.number_e164 for a in rows) == sorted(NUMBERS)  # each case dialled once
    assert {a.number_e164: a.outcome for a in rows} == {n: expected_outcome(n) for n in NUMBERS}
    for attempt in rows:
        assert attempt.receipt["verdict"] == "allowed" and attempt.receipt["checks"], attempt.receipt
        assert attempt.ended_at is not None
    agent_ids = agent_ids_by_name(store)
    for attempt in (a for a in rows if a.outcome is AttemptOutcome.ANSWERED):
        assert attempt.conversation and attempt.agent_id in agent_ids.values(), attempt.agent_id
        assert attempt.recording_path and attempt.recording_path.endswith(".wav.sealed"), attempt.recording_path
        with open_recording(Path(attempt.recording_path), master_keys(tmp_path)) as recording:
            debtor, agent, _ = read_stereo(recording)
        assert contains_part_of(debtor, GREETING.astype(float)) > 0.8  # our recording holds the debtor
        assert contains_part_of(agent, AGENT_SPEECH.astype(float)) > 0.8  # and the agent, from baresip
        kept = transcript_file(attempt.recording_path)  # sealed beside the recording (records at rest)
        assert kept is not None and kept.name.endswith(".sealed"), attempt.recording_path
        transcript = read_transcript_file(kept, master_keys(tmp_path)).transcript
        assert any(s.speaker == "debtor" and s.text.strip() for s in transcript.segments), transcript
    bridged_to = {name for name, user_id in agent_ids.items()
                  if any(a.agent_id == user_id for a in rows if a.outcome is AttemptOutcome.ANSWERED)}
    assert bridged_to
    for name in bridged_to:  # the agent's own phone heard the debtor through the bridge
        assert contains_part_of(phones[name].heard().astype(float), GREETING.astype(float)) > 0.8, name
    verify = subprocess.run([DUNLINE, "audit", "verify"], env=env, text=True, capture_output=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    store.dispose()
