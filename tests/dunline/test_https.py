"""The console and API over HTTPS (issue 17): `dunline serve` with a certificate and key from the settings
serves TLS to a real client that trusts that certificate, its cookies marked Secure; without them it serves
plain HTTP on loopback only."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from cases import Store, migrate
from cases.models import Role
from crypto import KEY_FILE, ensure_key_file
from dunline.cli.main import app
from dunline.exposure import is_loopback
from tests.conftest import REDIS_URL
from tests.dunline.test_server import provision

STRONG = {"DUNLINE_SECRET_KEY": "a-long-console-secret-for-tests",
          "DUNLINE_AGENT_SIP_SECRET": "a-long-agent-sip-secret-for-tests"}
VALID_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)  # fixed: the test does not depend on today


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dunline test")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(VALID_FROM)
                   .not_valid_after(VALID_FROM + dt.timedelta(days=3650))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert, key_file = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


def test_loopback_is_told_from_everything_else() -> None:
    assert all(is_loopback(host) for host in ("127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "", "::", "10.0.0.5", "dunline.example", "192.168.1.1"))


@pytest.mark.parametrize("extra, said", [
    ({"DUNLINE_HTTP_HOST": "0.0.0.0"}, "refusing to serve plain HTTP on '0.0.0.0'"),
    ({"DUNLINE_HTTP_HOST": "10.1.2.3", "DUNLINE_HTTP_TLS_CERT": "/nonexistent/cert.pem",
      "DUNLINE_HTTP_TLS_KEY": "/nonexistent/key.pem"}, "cannot load the HTTPS certificate"),
    ({"DUNLINE_HTTP_TLS_CERT": "/nonexistent/cert.pem"}, "set both or neither"),
])
def test_serve_refuses_plain_http_beyond_loopback_and_a_broken_pair(
        fresh_install: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str], said: str) -> None:
    for name, value in {**STRONG, **extra}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 1 and said in " ".join(result.output.split()), result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_serve_speaks_https_with_the_configured_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'dunline.db'}")
    migrate.upgrade(store.engine)
    token = provision(store, {"mei": Role.CAMPAIGN_MANAGER})["mei"]
    store.dispose()
    port = free_port()
    env = {**os.environ, **STRONG, "DUNLINE_DATA_DIR": str(tmp_path), "DUNLINE_REDIS_URL": REDIS_URL,
           "DUNLINE_HTTP_PORT": str(port), "DUNLINE_SIP_PORT": "0", "DUNLINE_TRANSCRIPTION_WORKERS": "0",
           "DUNLINE_HTTP_TLS_CERT": str(cert), "DUNLINE_HTTP_TLS_KEY": str(key)}
    for name in ("DUNLINE_DATABASE_URL", "DUNLINE_CONFIG", "DUNLINE_TRUNK_HOST", "DUNLINE_HTTP_HOST"):
        env.pop(name, None)
    ensure_key_file(tmp_path / KEY_FILE)  # as `dunline db upgrade` leaves an installation: serve needs a master key
    log = tmp_path / "serve.log"
    serve = subprocess.Popen([str(Path(sys.executable).parent / "dunline"), "serve"], env=env,
                             stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    trusting = ssl.create_default_context(cafile=str(cert))
    base = f"https://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 60
            while True:
                assert serve.poll() is None, log.read_text()[-3000:]
                try:
                    async with session.get(f"{base}/healthz", ssl=trusting) as health:
                        if health.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                await asyncio.sleep(0.2)
            async with session.get(f"{base}/signin", ssl=trusting) as page:
                cookies = page.headers.getall("Set-Cookie", [])
                assert page.status == 200 and cookies and all("Secure" in c for c in cookies), cookies
            async with session.get(f"{base}/api/cases", ssl=trusting,
                                   headers={"Authorization": f"Bearer {token}"}) as cases:
                assert cases.status == 200
            with pytest.raises(aiohttp.ClientConnectorCertificateError):  # an untrusted certificate is refused
                await session.get(f"{base}/healthz", ssl=ssl.create_default_context())
            with pytest.raises(aiohttp.ClientError):  # and nothing is served in the clear on that port
                await session.get(f"http://127.0.0.1:{port}/healthz")
        assert "serving on https://127.0.0.1" in log.read_text()
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=30)
