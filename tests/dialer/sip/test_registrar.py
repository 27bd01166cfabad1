"""The registrar over the loopback transport, with a client using the same digest flow as trunk calls."""

import asyncio
import copy

from dialer.sip.dialog import new_branch, new_tag
from dialer.sip.digest import Credentials, auth_flow
from dialer.sip.layer import TransactionLayer
from dialer.sip.message import SipRequest
from dialer.sip.registrar import Registrar
from dialer.sip.transport import loopback_pair

PASSWORDS = {"agent1": "secret1", "agent2": "secret2"}


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


async def register(client: TransactionLayer, user: str, password: str, contact: str, expires: str = "300"):  # type: ignore[no-untyped-def]
    request = SipRequest(method="REGISTER", uri="sip:127.0.0.1")
    request.add("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={new_branch()}")
    request.add("From", f"<sip:{user}@127.0.0.1>;tag={new_tag()}")
    request.add("To", f"<sip:{user}@127.0.0.1>")
    request.add("Call-ID", new_tag())
    request.add("CSeq", "1 REGISTER")
    request.add("Contact", contact)
    request.add("Expires", expires)

    def rebuild(r: SipRequest) -> SipRequest:
        again = copy.deepcopy(r)
        again.set("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={new_branch()}")
        return again

    flow = auth_flow(request, Credentials(user, password), rebuild)
    outgoing = next(flow)
    while True:
        response = await asyncio.wait_for(client.send_request(outgoing, ("127.0.0.1", 5061)).final, 2)
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
