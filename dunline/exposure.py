"""What the server may show beyond this machine: plain HTTP only on loopback, HTTPS from the settings'
certificate and key anywhere. (Shipped or short secrets are refused on every address, loopback included:
`dunline.installation.weak_secrets`.)"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

from dunline.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether `host` binds loopback only; "" and 0.0.0.0 bind every interface, and any other name may
    resolve anywhere, so neither is."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def http_tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server-side TLS context of the console and API; None without a certificate (plain HTTP).
    Raises OSError or ssl.SSLError for a missing or unreadable pair."""
    if settings.http_tls_cert is None or settings.http_tls_key is None:
        return None
    return server_tls_context(settings.http_tls_cert, settings.http_tls_key)


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side context of TLS 1.2 or later with this PEM certificate (chain) and key (HTTPS, SIP over
    TLS). Raises OSError or ssl.SSLError for a missing or unreadable pair."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def plain_http_beyond_loopback(settings: Settings) -> bool:
    return settings.http_tls_cert is None and not is_loopback(settings.http_host)
