"""Over a lossy link: a UDP relay between our user agent and SIPp drops one message once, and the call must
still complete (or end cleanly) with the right outcome, the lost message must come again (a retransmission),
retransmissions must be absorbed by their transactions, and nothing may outlive its timers.

The agent runs the RFC 3261 timers 20 times faster (T1 = 25 ms, 64*T1 = 1.6 s), so each test waits past its
timers in a second or two; SIPp retransmits its own 200s, 486 and BYE every 100 ms and doubling (`retrans`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from dialer.sip.outcome import CallResult
from dialer.sip.transaction import T1, T4
from dialer.sip.uac import UserAgent
from tests.integration.lossy import TO_PEER, TO_UA, Datagram, LossyRelay, Predicate, request, response
from tests.integration.test_sipp_peer import SCENARIOS, SDP, Sipp

pytestmark = pytest.mark.usefixtures("sipp_installed")
TIME_SCALE = 0.05
LONGEST_TIMER = 64 * T1 * TIME_SCALE  # B, F, H, J, L, M; D (32 s) is shorter, I and K (T4) shorter still
SLACK = 1.0

RelayFactory = Callable[..., Awaitable[LossyRelay]]


@pytest.fixture
async def agent() -> AsyncIterator[UserAgent]:
    ua = UserAgent(time_scale=TIME_SCALE)
    await ua.start()
    yield ua
    ua.close()


@pytest.fixture
async def relay() -> AsyncIterator[RelayFactory]:
    started: list[LossyRelay] = []

    async def start(peer: tuple[str, int], ua: tuple[str, int] | None = None) -> LossyRelay:
        started.append(await LossyRelay.start(peer, ua))
        return started[-1]

    yield start
    for one in started:
        one.close()


def census(agent: UserAgent) -> list[str]:
    """The transactions alive now, as 'METHOD kind state'."""
    return sorted(f"{txn.request.method} {txn.kind.value} {txn.state.value}"
                  for txn in [*agent.layer.clients.values(), *agent.layer.servers.values()])


async def settle(agent: UserAgent, since: float, longest: float = LONGEST_TIMER) -> float:
    """Wait until no transaction is left, failing if one outlives `longest` (+ slack) counted from `since`
    (a loop time before the last transaction started); then no call may still have an open dialog."""
    loop = asyncio.get_running_loop()
    while agent.layer.live:
        assert loop.time() - since < longest + SLACK, f"transactions outlive their timers: {census(agent)}"
        await asyncio.sleep(0.02)
    open_dialogs = [call.call_id for call in agent.calls.values() if not call.ended.is_set()]
    assert not open_dialogs, f"calls left with an open dialog: {open_dialogs}"
    return loop.time() - since


async def sipp_ok(sipp: Sipp, relay: LossyRelay) -> None:
    if not await sipp.finished_ok():
        stderr = (await sipp.process.stderr.read()).decode()[-600:]
        pytest.fail(f"SIPp failed the call:\n{stderr}\n{relay.trace()}")


def same_message(lost: Datagram, again: Datagram) -> bool:
    """A retransmission is the very same message, the ACK for a 2xx included (we keep and resend it)."""
    return lost.data == again.data


ANSWER, BUSY, RING = "lossy_answer.xml", "lossy_busy.xml", "ring_forever.xml"
# What must linger once the call is over, to absorb retransmissions: the INVITE transaction Accepted (2xx,
# Timer M) or Completed (final, Timer D), the BYE or CANCEL transaction Completed (Timer K).
HUNG_UP = ["BYE non_invite_client completed", "INVITE invite_client accepted"]
REFUSED = ["INVITE invite_client completed"]
CANCELLED = ["CANCEL non_invite_client completed", "INVITE invite_client completed"]
LOSSES = [
    pytest.param(ANSWER, request("INVITE"), CallResult.ANSWERED, 200, HUNG_UP, id="INVITE"),
    pytest.param(ANSWER, response(180), CallResult.ANSWERED, 200, HUNG_UP, id="180"),
    pytest.param(ANSWER, response(200, "INVITE"), CallResult.ANSWERED, 200, HUNG_UP, id="200"),
    pytest.param(ANSWER, request("ACK"), CallResult.ANSWERED, 200, HUNG_UP, id="ACK"),
    pytest.param(ANSWER, request("BYE"), CallResult.ANSWERED, 200, HUNG_UP, id="BYE"),
    pytest.param(BUSY, response(486), CallResult.BUSY, 486, REFUSED, id="486"),
    pytest.param(RING, request("CANCEL"), CallResult.CANCELLED, 487, CANCELLED, id="CANCEL"),
]


@pytest.mark.parametrize("scenario, lost, result, code, lingering", LOSSES)
async def test_a_message_lost_once_comes_again_and_the_call_ends_cleanly(
        agent: UserAgent, relay: RelayFactory, scenario: str, lost: Predicate, result: CallResult,
        code: int, lingering: list[str]) -> None:
    loop = asyncio.get_running_loop()
    async with Sipp("-sf", str(SCENARIOS / scenario)) as sipp:
        link = await relay(sipp.peer)
        link.drop_once(lost)
        outcome = await agent.dial(sipp.uri(), link.address, SDP, ring_timeout=0.5 if scenario == RING else 5.0)
        assert (outcome.result, outcome.code) == (result, code), link.trace()
        last_started = loop.time()
        if outcome.answered:
            try:  # a lost ACK is sent again when SIPp retransmits its 200
                await link.wait_for(request("ACK"), timeout=1.5)
            except TimeoutError:
                pytest.fail(f"no ACK reached SIPp though it retransmitted its 200 "
                            f"{len(link.seen(response(200, 'INVITE'))) - 1} times:\n{link.trace()}")
            last_started = loop.time()
            assert await agent.hang_up(outcome.call) == 200, link.trace()
        assert outcome.call.ended.is_set()
        assert census(agent) == lingering, link.trace()
        await sipp_ok(sipp, link)

    assert link.pending_drops == 0 and len(link.dropped) == 1, link.trace()
    again = link.seen(lost)
    assert again, f"the lost {link.dropped[0].first_line!r} never came again:\n{link.trace()}"
    assert same_message(link.dropped[0], again[0]), f"{link.dropped[0].data!r} != {again[0].data!r}"
    if link.dropped[0].status == 180:
        assert outcome.call.provisional == [180]  # SIPp re-sent it when our INVITE was retransmitted
    if result is CallResult.ANSWERED:
        # one dialog, confirmed once and ended with one BYE transaction (a lost BYE is retransmitted in it)
        byes = link.seen(request("BYE"))
        oks = link.seen(response(200, "BYE"))
        assert all(bye.data == byes[0].data for bye in byes) and oks and all(ok.data == oks[0].data for ok in oks)
    else:  # the failure was ACKed in the INVITE transaction, once for each final response that arrived
        finals = link.seen(lambda d: d.direction == TO_UA and (d.status or 0) >= 300)
        assert len(link.seen(request("ACK"))) == len(finals) >= 1
    await settle(agent, last_started)


async def test_a_lost_200_for_the_peers_bye_is_resent_by_the_transaction_that_absorbs_the_retransmitted_bye(
        agent: UserAgent, relay: RelayFactory) -> None:
    delivered: list[str] = []
    deliver = agent.layer.on_request

    def spy(txn, request_, source):  # type: ignore[no-untyped-def]
        if txn is not None:
            delivered.append(request_.method)
        deliver(txn, request_, source)

    agent.layer.on_request = spy
    loop = asyncio.get_running_loop()
    async with Sipp("-sf", str(SCENARIOS / "lossy_remote_hangup.xml")) as sipp:
        link = await relay(sipp.peer)
        link.drop_once(response(200, "BYE"))
        outcome = await agent.dial(sipp.uri(), link.address, SDP)
        assert (outcome.result, outcome.code) == (CallResult.ANSWERED, 200), link.trace()
        await asyncio.wait_for(outcome.call.ended.wait(), 3)
        bye_at = loop.time()
        assert census(agent) == ["BYE non_invite_server completed", "INVITE invite_client accepted"]
        await sipp_ok(sipp, link)  # SIPp got a 200 for its BYE in the end

    byes = link.seen(request("BYE"))
    assert len(byes) >= 2 and all(bye.direction == TO_UA and bye.data == byes[0].data for bye in byes), link.trace()
    oks = link.seen(response(200, "BYE"))
    assert len(link.dropped) == 1 and oks and all(ok.data == link.dropped[0].data for ok in oks), link.trace()
    assert delivered == ["BYE"]  # the retransmitted BYE was absorbed by its server transaction: the call ended once
    assert await agent.hang_up(outcome.call) is None  # already over: we send no BYE of our own
    assert not link.seen(lambda d: d.direction == TO_PEER and d.method == "BYE")
    await settle(agent, bye_at)


async def test_a_retransmitted_inbound_invite_is_absorbed_by_its_server_transaction(
        relay: RelayFactory, tmp_path: Path) -> None:
    # An agent with nowhere to send incoming calls (no on_incoming) refuses them: 480 Temporarily Unavailable.
    # Timers at 0.2: our Timer G (100 ms) must not resend the 480 before SIPp retransmits its INVITE (20 ms).
    code = 480
    agent = UserAgent(time_scale=0.2)
    await agent.start()
    delivered: list[str] = []
    deliver = agent.layer.on_request

    def spy(txn, request_, source):  # type: ignore[no-untyped-def]
        delivered.append(request_.method)
        deliver(txn, request_, source)

    agent.layer.on_request = spy
    scenario = tmp_path / "lossy_inbound_invite.xml"
    scenario.write_text((SCENARIOS / "lossy_inbound_invite.xml").read_text().replace("CODE", str(code)))
    try:
        sipp = Sipp("-sf", str(scenario))
        link = await relay(sipp.peer, (agent.host, agent.port))
        sipp.args.append(f"{link.address[0]}:{link.address[1]}")
        link.drop_once(response(100))
        link.drop_once(response(code))  # with the 100 gone too, only the final stops SIPp's INVITE retransmits
        started = asyncio.get_running_loop().time()
        async with sipp:
            await sipp_ok(sipp, link)  # SIPp got the final response and ACKed it
        invites = link.seen(request("INVITE"))
        assert len(invites) >= 2 and all(invite.data == invites[0].data for invite in invites), link.trace()
        finals = link.seen(response(code))
        assert finals and all(final.data == link.dropped[1].data for final in finals), link.trace()
        assert len(link.seen(request("ACK"))) == 1
        assert delivered == ["INVITE"]  # once, however many copies came: the ACK stayed in the transaction
        await settle(agent, started, longest=64 * T1 * 0.2 + T4 * 0.2)  # Timer I after the ACK
    finally:
        agent.close()


@pytest.mark.parametrize("scenario, lost", [
    pytest.param("answer_crossing_cancel.xml", None, id="nothing-lost"),
    pytest.param("lossy_answer_crossing_cancel.xml", response(200, "INVITE"), id="crossing-200-lost"),
])
async def test_a_200_crossing_our_cancel_over_the_relay_is_acked_and_hung_up(
        agent: UserAgent, relay: RelayFactory, scenario: str, lost: Predicate | None) -> None:
    loop = asyncio.get_running_loop()
    async with Sipp("-sf", str(SCENARIOS / scenario)) as sipp:
        link = await relay(sipp.peer)
        if lost is not None:
            link.drop_once(lost)
        started = loop.time()
        outcome = await agent.dial(sipp.uri(), link.address, SDP, ring_timeout=0.5)
        assert (outcome.result, outcome.code) == (CallResult.CANCELLED, 200), link.trace()
        assert outcome.call.ended.is_set()
        assert {"INVITE invite_client accepted", "BYE non_invite_client completed"} <= set(census(agent))
        await sipp_ok(sipp, link)  # SIPp received our ACK and our BYE: never a silent answered call

    ours = [d.method for d in link.forwarded if d.direction == TO_PEER]
    assert ours == ["INVITE", "CANCEL", "ACK", "BYE"], link.trace()
    if lost is not None:
        assert len(link.dropped) == 1 and link.seen(lost)[0].data == link.dropped[0].data
    await settle(agent, started + 0.5)


async def test_finished_calls_are_forgotten_once_their_timers_have_run(agent: UserAgent,
                                                                      relay: RelayFactory) -> None:
    loop = asyncio.get_running_loop()
    async with Sipp("-sf", str(SCENARIOS / ANSWER)) as sipp:
        link = await relay(sipp.peer)
        outcome = await agent.dial(sipp.uri(), link.address, SDP)
        ended_at = loop.time()
        assert await agent.hang_up(outcome.call) == 200
        await sipp_ok(sipp, link)
    await settle(agent, ended_at)
    while agent.calls and loop.time() - ended_at < LONGEST_TIMER + SLACK:
        await asyncio.sleep(0.02)
    assert agent.calls == {}, f"{len(agent.calls)} finished call(s) still held by the agent"
