"""The switchboard as `dunline serve` builds it: agents' phones register with their derived passwords."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from cases import Store
from cases.models import Role, User
from dialer.simulate.agent_bot import AgentBot
from dialer.sip.uac import UserAgent
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


@contextmanager
def users_table_locked(store: Store) -> Iterator[threading.Event]:
    """Another connection holds the users table (PostgreSQL: LOCK TABLE; SQLite: the write lock, as a long
    import does) until the returned event is set, or for 5 s at most, from a thread of its own."""
    locked, release, released = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with store.engine.connect() as connection, connection.begin():
            if store.backend == "postgresql":
                connection.exec_driver_sql("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            else:
                connection.exec_driver_sql("UPDATE users SET active = active")
            locked.set()
            release.wait(5)
            released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(5)
    try:
        yield released
    finally:
        release.set()
        holder.join()


async def test_probe_11_a_register_waiting_on_the_users_table_does_not_freeze_the_loop(store: Store,
                                                                                        tmp_path: Path) -> None:
    with store.session() as session:
        session.add(User(username="li", display_name="Li", role=Role.AGENT))
    settings = Settings(data_dir=tmp_path, sip_port=0, agent_sip_secret=SecretStr("s3"))
    board = build_switchboard(settings, store)
    await board.start()
    phone = AgentBot("li", agent_sip_password(settings, "li"), board.address)
    prober = UserAgent(display="prober")
    await phone.ua.start()
    await prober.start()
    try:
        with users_table_locked(store) as released:
            registering = asyncio.ensure_future(phone.register())
            await asyncio.sleep(0.3)  # the REGISTER and its answer to the challenge have arrived by now
            assert await prober.ping(board.address, timeout=3)  # OPTIONS from elsewhere is answered...
            assert not released.is_set()  # ...while the table is still locked
        assert await asyncio.wait_for(registering, 5)  # and the REGISTER succeeds once it is free
    finally:
        prober.close()
        await phone.close()
        await board.close()


async def test_probe_14_register_with_the_database_down_is_answered_503(tmp_path: Path) -> None:
    down = Store("postgresql+psycopg://postgres@127.0.0.1:1/dunline")  # nothing listens on port 1
    settings = Settings(data_dir=tmp_path, sip_port=0, agent_sip_secret=SecretStr("s3"))
    board = build_switchboard(settings, down)
    await board.start()
    phone = AgentBot("li", agent_sip_password(settings, "li"), board.address)
    await phone.ua.start()
    try:
        response = await phone.ua.register(board.address, "li", 300, timeout=5)
        assert response is not None and response.status == 503 and response.get("Retry-After")
    finally:
        await phone.close()
        await board.close()
        down.dispose()


def test_probe_6_auth_limits_come_from_settings(sqlite_store: Store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sip_port=0, sip_auth_max_failures=3, sip_auth_max_user_failures=7,
                        sip_auth_block_s=90)
    limits = build_switchboard(settings, sqlite_store).registrar.limits
    assert (limits.max_failures_per_source, limits.max_failures_per_user, limits.block_s) == (3, 7, 90)


def test_the_carrier_may_invite_and_is_never_rate_limited_others_are(sqlite_store: Store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sip_port=0, trunk_host="203.0.113.10", trunk_port=5080,
                        sip_inbound_sources=["198.51.100.7:5070", "198.51.100.8"], sip_rate_per_source=30,
                        sip_burst_per_source=60)
    board = build_switchboard(settings, sqlite_store)
    assert all(board.admits(source) for source in (("203.0.113.10", 5080), ("198.51.100.7", 5070),
                                                   ("198.51.100.8", 5060)))
    assert not any(board.admits(source) for source in (("203.0.113.10", 5081), ("198.51.100.7", 5060),
                                                       ("192.0.2.1", 5060)))  # a stranger: 403
    limit = board.rate_limit
    assert limit is not None and (limit.rate, limit.burst) == (30, 60)
    assert limit.exempt == {"203.0.113.10", "198.51.100.7", "198.51.100.8"}


def test_the_tls_listeners_connection_limit_comes_from_settings_and_spares_the_carrier(sqlite_store: Store,
                                                                                       tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sip_port=0, trunk_host="203.0.113.10", sip_connections_per_source=5,
                        sip_connects_per_source=0.5)
    limit = build_switchboard(settings, sqlite_store).connection_limit
    assert limit is not None and (limit.max_open, limit.rate, limit.burst) == (5, 0.5, 5)
    assert limit.exempt == {"203.0.113.10"}
