"""The switchboard as `dunline serve` builds it: agents' phones register with their derived passwords."""

from pydantic import SecretStr

from cases import Store
from cases.models import Role, User
from dialer.simulate.agent_bot import AgentBot
from dunline.settings import Settings
from dunline.telephony import agent_sip_password, build_switchboard, trunk_from


async def test_only_active_agents_register_with_their_derived_password(sqlite_store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with sqlite_store.session() as session:
        session.add_all([User(username="li", display_name="Li", role=Role.AGENT),
                         User(username="gone", display_name="Gone", role=Role.AGENT, active=False),
                         User(username="auditor", display_name="A", role=Role.COMPLIANCE_REVIEWER)])
    settings = Settings(data_dir=tmp_path, sip_port=0, agent_sip_secret=SecretStr("s3"))
    board = build_switchboard(settings, sqlite_store)
    await board.start()
    try:
        assert board.trunk is None and board.recordings == tmp_path / "recordings"
        results = {}
        for user in ("li", "gone", "auditor"):
            bot = AgentBot(user, agent_sip_password(settings, user), board.address)
            results[user] = await bot.start()
            await bot.close()
        assert results == {"li": True, "gone": False, "auditor": False}
        wrong = AgentBot("li", "guess", board.address)
        assert not await wrong.start()
        await wrong.close()
        assert agent_sip_password(settings, "li") != agent_sip_password(Settings(agent_sip_secret=SecretStr("x")), "li")
    finally:
        await board.close()


def test_trunk_settings() -> None:
    assert trunk_from(Settings()) is None
    trunk = trunk_from(Settings(trunk_host="sip.carrier.example", trunk_transport="tls", trunk_username="u",
                                trunk_password=SecretStr("p"), trunk_outbound_proxy="10.0.0.2:5070"))
    assert trunk is not None and trunk.transport == "tls" and trunk.credentials.username == "u"
    assert trunk.address == ("10.0.0.2", 5070) and trunk.uri("+861").endswith(";transport=tls")
