"""Wiring the switchboard from settings: the trunk, and the registrar's passwords for agents' phones.

An agent's SIP password is derived from `agent_sip_secret` and the username (HMAC-SHA256), so no SIP
secret is stored per user and rotating the one secret re-keys every phone; `dunline users sip-password`
shows it to an administrator for provisioning. Only active users with an operator role may register.
The lookup is a read-only session: it never waits for a writer's lock on SQLite (an import), and the
registrar runs it off the event loop in any case.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from cases import Store
from cases.models import Role, User
from dialer.leg import CallLeg
from dialer.media.rtpengine import MediaAnchors, RtpEngine
from dialer.sip.digest import Credentials
from dialer.sip.headers import split_hostport
from dialer.sip.lockout import AuthLimits
from dialer.sip.ratelimit import ConnectionLimit, SourceRateLimit
from dialer.sip.transport import Address
from dialer.switchboard import Switchboard, Trunk
from dunline.exposure import server_tls_context
from dunline.installation import master_keys
from dunline.settings import Settings

ROLES_WITH_PHONES = frozenset({Role.AGENT, Role.SUPERVISOR})


def agent_sip_password(settings: Settings, username: str) -> str:
    secret = settings.agent_sip_secret.get_secret_value().encode()
    return hmac.new(secret, f"sip:{username}".encode(), hashlib.sha256).hexdigest()[:20]


def phone_passwords(settings: Settings, store: Store) -> Callable[[str], str | None]:
    def password_of(username: str) -> str | None:
        with store.reading() as session:
            user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active or user.role not in ROLES_WITH_PHONES:
            return None
        return agent_sip_password(settings, username)
    return password_of


def trunk_from(settings: Settings) -> Trunk | None:
    if not settings.trunk_host:
        return None
    credentials = None
    if settings.trunk_username and settings.trunk_password:
        credentials = Credentials(settings.trunk_username, settings.trunk_password.get_secret_value())
    proxy = _address(settings.trunk_outbound_proxy) if settings.trunk_outbound_proxy else None
    return Trunk(settings.trunk_host, settings.trunk_port, credentials, settings.trunk_caller_id,
                 ring_timeout_s=settings.ring_timeout_s, transport=settings.trunk_transport, outbound_proxy=proxy)


def build_switchboard(settings: Settings, store: Store, *,
                      inbound: Callable[[CallLeg, str], Awaitable[None]] | None = None) -> Switchboard:
    """The carrier's addresses (the trunk's and `sip_inbound_sources`) may send INVITEs and are never rate
    limited; every other source is limited and, unless it is a registered phone, refused INVITEs."""
    trunk = trunk_from(settings)
    carrier = frozenset(_address(source) for source in settings.sip_inbound_sources) | (
        {trunk.address} if trunk is not None else set())
    return Switchboard(trunk=trunk, host=settings.sip_host, port=settings.sip_port,
                       realm=settings.sip_realm, password_of=phone_passwords(settings, store), inbound=inbound,
                       recordings=settings.data_dir / "recordings", keys=master_keys(settings.data_dir),
                       auth_limits=AuthLimits(max_failures_per_source=settings.sip_auth_max_failures,
                                              max_failures_per_user=settings.sip_auth_max_user_failures,
                                              block_s=settings.sip_auth_block_s),
                       rate_limit=SourceRateLimit(settings.sip_rate_per_source, settings.sip_burst_per_source,
                                                  exempt=frozenset(host for host, _ in carrier)),
                       connection_limit=ConnectionLimit(settings.sip_connections_per_source,
                                                        settings.sip_connects_per_source,
                                                        settings.sip_connections_per_source,
                                                        exempt=frozenset(host for host, _ in carrier)),
                       inbound_sources=carrier, tls=sip_tls_context(settings), tls_port=settings.sip_tls_port,
                       agent_proxy=_address(settings.sip_agent_proxy) if settings.sip_agent_proxy else None,
                       anchors=media_anchors(settings))


def media_anchors(settings: Settings) -> MediaAnchors | None:
    """rtpengine, where one is configured (its control socket is opened with the first call)."""
    if not settings.rtpengine:
        return None
    return MediaAnchors(RtpEngine(_address(settings.rtpengine)), settings.rtpengine_recordings)


def sip_tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The SIP-over-TLS listener's context for agents' phones; None without a certificate (no listener)."""
    if settings.sip_tls_cert is None or settings.sip_tls_key is None:
        return None
    return server_tls_context(settings.sip_tls_cert, settings.sip_tls_key)


def _address(hostport: str) -> Address:
    host, port = split_hostport(hostport)
    return (host, port or 5060)
