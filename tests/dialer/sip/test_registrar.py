"""The registrar over the loopback transport, with a client using the same digest flow as trunk calls."""

import asyncio
import copy
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from dialer.sip.dialog import new_branch, new_tag
from dialer.sip.digest import Challenge, Credentials, auth_flow, authorization, parse_challenge
from dialer.sip.layer import ServerTransaction, TransactionLayer
from dialer.sip.message import SipRequest, SipResponse
from dialer.sip.lockout import AuthLimits
from dialer.sip.nonces import NonceBook
from dialer.sip.registrar import Registrar
from dialer.sip.transport import Address, UdpTransport, loopback_pair

PASSWORDS = {"agent1": "secret1", "agent2": "secret2"}
# How long a client waits for a final answer over the loopback pair: a guard against a hang, not a speed
# figure (the full suite once stalled past 2 s on this 2-core machine before the first REGISTER was answered).
ANSWER_S = 10.0


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def setup():  # type: ignore[no-untyped-def]
    clock = Clock()
    registrar = Registrar("dunline", PASSWORDS.get, clock)
    server = TransactionLayer(lambda txn, request, source: txn and registrar.handle(txn, request, source))
    client = TransactionLayer(lambda *_: None)
    client.transport, server.transport = loopback_pair(client.receive, server.receive)
    return registrar, client, clock


async def register(client: TransactionLayer, user: str, password: str, contact: str, expires: str = "300",
                   to: Address = ("127.0.0.1", 5061), call_id: str | None = None, cseq: int = 1) -> SipResponse:
    request = SipRequest(method="REGISTER", uri="sip:127.0.0.1")
    request.add("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={new_branch()}")
    request.add("From", f"<sip:{user}@127.0.0.1>;tag={new_tag()}")
    request.add("To", f"<sip:{user}@127.0.0.1>")
    request.add("Call-ID", call_id or new_tag())
    request.add("CSeq", f"{cseq} REGISTER")
    request.add("Contact", contact)
    request.add("Expires", expires)

    def rebuild(r: SipRequest) -> SipRequest:
        again = copy.deepcopy(r)
        again.set("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={new_branch()}")
        return again

    flow = auth_flow(request, Credentials(user, password), rebuild)
    outgoing = next(flow)
    while True:
        response = await asyncio.wait_for(client.send_request(outgoing, to).final, ANSWER_S)
        try:
            outgoing = flow.send(response)
        except StopIteration:
            return response


async def test_register_with_digest_and_several_contacts() -> None:
    registrar, client, clock = await setup()
    first = await register(client, "agent1", "secret1", "<sip:agent1@10.0.0.5:5062>")
    assert first.status == 200 and first.get_all("Contact") == ["<sip:agent1@10.0.0.5:5062>;expires=300"]
    await register(client, "agent1", "secret1", "<sip:agent1@10.0.0.6:5062>;expires=120")
    assert [b.contact for b in registrar.lookup("agent1")] == ["sip:agent1@10.0.0.5:5062", "sip:agent1@10.0.0.6:5062"]
    clock.now += 200  # the second binding expires
    assert [b.contact for b in registrar.lookup("agent1")] == ["sip:agent1@10.0.0.5:5062"]


async def test_wrong_password_other_user_and_brief_interval_are_refused() -> None:
    registrar, client, _ = await setup()
    assert (await register(client, "agent1", "wrong", "<sip:agent1@10.0.0.5>")).status == 401
    assert (await register(client, "agent1", "secret1", "<sip:agent1@10.0.0.5>", expires="10")).status == 423
    assert registrar.lookup("agent1") == []


async def test_unregister_all() -> None:
    registrar, client, _ = await setup()
    await register(client, "agent2", "secret2", "<sip:agent2@10.0.0.9>")
    assert (await register(client, "agent2", "secret2", "*", expires="0")).status == 200
    assert registrar.lookup("agent2") == []


# Issue 14 probe: the registrar on a real UDP socket, phones and attackers on their own (127.0.0.x) sockets.

@dataclass
class Rig:
    registrar: Registrar
    address: Address
    clock: Clock
    seen: list[SipRequest]  # every REGISTER the registrar received
    transports: list[UdpTransport]

    async def client(self, host: str = "127.0.0.1") -> TransactionLayer:
        layer = TransactionLayer(lambda *_: None)
        layer.transport = await UdpTransport.bind(host, 0, layer.receive)
        self.transports.append(layer.transport)
        return layer

    def answers(self) -> list[SipRequest]:
        return [request for request in self.seen if request.get("Authorization")]


StartRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def udp() -> AsyncIterator[StartRig]:
    rigs: list[Rig] = []

    async def start(**options: Any) -> Rig:
        clock = Clock()
        registrar = Registrar("dunline", PASSWORDS.get, clock, **options)
        seen: list[SipRequest] = []

        def on_request(txn: ServerTransaction | None, request: SipRequest, source: Address) -> None:
            seen.append(request)
            if txn is not None:
                registrar.handle(txn, request, source)

        server = TransactionLayer(on_request)
        server.transport = await UdpTransport.bind("127.0.0.1", 0, server.receive)
        rigs.append(Rig(registrar, server.transport.local, clock, seen, [server.transport]))
        return rigs[-1]

    yield start
    for rig in rigs:
        rig.registrar.close()
        for transport in rig.transports:
            transport.close()


def replay_of(request: SipRequest, contact: str) -> SipRequest:
    """The same Authorization (nonce, nc, response) in a new transaction, Call-ID and Contact."""
    again = copy.deepcopy(request)
    again.set("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={new_branch()}")
    again.set("Call-ID", new_tag())
    again.set("CSeq", "7 REGISTER")
    again.set("Contact", contact)
    return again


def answered_anew(request: SipRequest, contact: str, password: str, nc: int = 1) -> SipRequest:
    """`request`'s nonce answered again (rightly, with `password` and count `nc`) in a new transaction."""
    again = replay_of(request, contact)
    nonce = parse_challenge(request.get("Authorization") or "").nonce
    again.set("Authorization", authorization(Credentials("agent1", password),
                                             Challenge(realm="dunline", nonce=nonce, qop="auth"),
                                             "REGISTER", request.uri, nc=nc))
    return again


async def send(layer: TransactionLayer, request: SipRequest, to: Address) -> SipResponse:
    return await asyncio.wait_for(layer.send_request(request, to).final, 2)


def stale(response: SipResponse) -> bool:
    return response.status == 401 and "stale=true" in (response.get("WWW-Authenticate") or "")


async def test_probe_5_replayed_digest_is_refused_stale(udp: StartRig) -> None:
    rig = await udp()
    phone, eavesdropper = await rig.client(), await rig.client("127.0.0.2")
    assert (await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.5:5062>", to=rig.address)).status == 200
    answered = rig.answers()[-1]
    for layer in (eavesdropper, phone):  # from another source, and from the phone's own: the same nc again
        assert stale(await send(layer, replay_of(answered, "<sip:agent1@10.66.6.6:5060>"), rig.address))
    assert [b.contact for b in rig.registrar.lookup("agent1")] == ["sip:agent1@10.0.0.5:5062"]
    # The phone may reuse its nonce with a higher count (RFC 2617 §3.2.2), but only from where it was issued.
    for layer, status in ((eavesdropper, 401), (phone, 200)):
        reused = answered_anew(answered, "<sip:agent1@10.0.0.5:5064>", "secret1", nc=2)
        assert (await send(layer, reused, rig.address)).status == status


async def test_probe_6_brute_force_is_blocked_per_source_then_forgiven(udp: StartRig,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    rig = await udp()
    guesser, elsewhere = await rig.client(), await rig.client("127.0.0.2")
    caplog.set_level(logging.WARNING, logger="dialer.sip.registrar")
    statuses = [(await register(guesser, "agent1", f"guess{n}", "<sip:agent1@10.6.6.6>", to=rig.address)).status
                for n in range(30)]
    assert statuses[0] == 401 and statuses[-1] == 403  # blocked long before 30 guesses
    assert (await register(guesser, "agent1", "secret1", "<sip:agent1@10.6.6.6>", to=rig.address)).status == 403
    assert any("127.0.0.1" in record.getMessage() and "blocked" in record.getMessage() for record in caplog.records)
    assert rig.registrar.lookup("agent1") == []
    # Another address is not blocked by this one; and the block ends.
    assert (await register(elsewhere, "agent1", "secret1", "<sip:agent1@10.0.0.5>", to=rig.address)).status == 200
    rig.clock.now += rig.registrar.limits.block_s + 1
    assert (await register(guesser, "agent1", "secret1", "<sip:agent1@10.0.0.7>", to=rig.address)).status == 200


async def test_probe_6_guessing_one_user_from_many_sources_blocks_the_user_but_not_its_phones(
        udp: StartRig, caplog: pytest.LogCaptureFixture) -> None:
    rig = await udp(limits=AuthLimits(max_failures_per_source=3, max_failures_per_user=5, block_s=60))
    phone = await rig.client("127.0.0.9")
    assert (await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.9>", to=rig.address)).status == 200
    caplog.set_level(logging.WARNING, logger="dialer.sip.registrar")
    for host in ("127.0.0.2", "127.0.0.3"):
        guesser = await rig.client(host)
        for n in range(3):
            await register(guesser, "agent1", f"guess{n}", "<sip:agent1@10.6.6.6>", to=rig.address)
    newcomer = await rig.client("127.0.0.4")
    assert (await register(newcomer, "agent1", "secret1", "<sip:agent1@10.0.0.4>", to=rig.address)).status == 403
    assert (await register(newcomer, "agent2", "secret2", "<sip:agent2@10.0.0.4>", to=rig.address)).status == 200
    assert (await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.9>", to=rig.address)).status == 200
    assert any("agent1" in record.getMessage() for record in caplog.records)
    rig.clock.now += 61
    assert (await register(newcomer, "agent1", "secret1", "<sip:agent1@10.0.0.4>", to=rig.address)).status == 200


async def test_probe_7_a_phone_moving_port_replaces_its_contact_and_bindings_are_capped(udp: StartRig) -> None:
    rig = await udp()
    phone = await rig.client()
    call_id = new_tag()  # a phone keeps its Call-ID towards a registrar (§10.2)
    await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.5:5062>", to=rig.address, call_id=call_id)
    await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.5:5064>", to=rig.address, call_id=call_id, cseq=5)
    assert [b.contact for b in rig.registrar.lookup("agent1")] == ["sip:agent1@10.0.0.5:5064"]

    for port in range(6000, 6040):  # forty restarts, each with a new Call-ID and port
        response = await register(phone, "agent1", "secret1", f"<sip:agent1@10.0.0.5:{port}>", to=rig.address)
        assert response.status == 200
    contacts = [b.contact for b in rig.registrar.lookup("agent1")]
    assert len(contacts) <= 8 and contacts[-1] == "sip:agent1@10.0.0.5:6039"
    assert len(response.get_all("Contact")) == len(contacts) and len(response.to_bytes()) < 1500


async def test_probe_8_challenges_keep_a_bounded_nonce_book(udp: StartRig) -> None:
    rig = await udp(nonces=NonceBook(capacity=50))
    phone = await rig.client()
    assert (await register(phone, "agent1", "wrong", "<sip:agent1@10.0.0.5>", to=rig.address)).status == 401
    first = rig.answers()[0]  # it answered the first nonce (wrongly): that nonce is still unused
    bare = [request for request in rig.seen if not request.get("Authorization")][0]
    for _ in range(120):  # challenges nobody answers
        bare.set("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={new_branch()}")
        assert (await send(phone, bare, rig.address)).status == 401
    assert len(rig.registrar.nonces) == 50
    # The oldest nonces went first: even a right answer to one is told stale; a fresh exchange still works.
    assert stale(await send(phone, answered_anew(first, "<sip:agent1@10.0.0.5>", "secret1"), rig.address))
    assert (await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.5>", to=rig.address)).status == 200


async def test_probe_14_lookup_failures_answer_503_or_use_a_recent_password(udp: StartRig) -> None:
    rig = await udp()
    phone = await rig.client()
    assert (await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.5>", to=rig.address)).status == 200
    rig.registrar.password_of = database_down
    # agent1 was read a moment ago: it keeps registering through the outage; agent2 was never read.
    assert (await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.5>", to=rig.address)).status == 200
    refused = await register(phone, "agent2", "secret2", "<sip:agent2@10.0.0.6>", to=rig.address)
    assert refused.status == 503 and int(refused.get("Retry-After") or "0") > 0
    rig.clock.now += 3600  # a password that old is not used any more
    assert (await register(phone, "agent1", "secret1", "<sip:agent1@10.0.0.5>", to=rig.address)).status == 503


async def test_probe_14_a_hanging_lookup_is_answered_503_not_silence(udp: StartRig) -> None:
    rig = await udp(lookup_timeout_s=0.2)
    released = threading.Event()

    def hanging(user: str) -> str | None:
        released.wait(5)
        return None

    rig.registrar.password_of = hanging
    try:
        refused = await register(await rig.client(), "agent2", "secret2", "<sip:agent2@10.0.0.6>", to=rig.address)
        assert refused.status == 503 and refused.get("Retry-After")
    finally:
        released.set()


def database_down(user: str) -> str | None:
    raise ConnectionRefusedError("connection to the case store refused")
