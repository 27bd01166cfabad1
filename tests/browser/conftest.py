"""Browser fixtures (issue 16): a real `dunline serve` and Debian's Chromium driven by Playwright.

- `console`: `dunline serve` in a subprocess on free ports with a fresh data dir (SQLite, embedded Redis), its
  trunk pointed at a port where `console.start_pstn()` starts the PSTN simulator when a test needs calls, and
  `console.start_agents(names)` starts agent bots (phones that register, answer and say "ready"). Options by
  indirect parametrisation: `@pytest.mark.parametrize("console", [{"at": "2026-11-30T02:30:00+00:00",
  "workers": 1}], indirect=True)` (the gates' simulated clock, transcription workers).
- `browser_page`: a headless Chromium page whose relative URLs go to the console; `sign_in(page, name,
  password, totp=None)` signs in through the form (the `sign_in` fixture hands over the same function).

Playwright never downloads a browser here: it launches `/usr/bin/chromium` (deploy/apt-packages.txt). Without
it the tests skip, or fail naming the package when DUNLINE_TEST_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases import Store
from cases.models import Role, User
from console import passwords, tokens
from console.totp import STEP_S, code_at, new_secret
from tests.conftest import REQUIRE_SERVERS

CHROMIUM = Path("/usr/bin/chromium")
DUNLINE = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dunline")
OUT = Path(__file__).resolve().parents[1] / "out"
START_S = 60.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Console:
    """A running `dunline serve` and what a browser test does to it from outside the browser."""

    def __init__(self, data_dir: Path, *, at: str | None = None, workers: int = 0) -> None:
        self.data_dir = data_dir
        self.http_port, self.sip_port, self.pstn_port = free_port(), free_port(socket.SOCK_DGRAM), \
            free_port(socket.SOCK_DGRAM)
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.env = {**os.environ, "DUNLINE_DATA_DIR": str(data_dir), "DUNLINE_HTTP_PORT": str(self.http_port),
                    "DUNLINE_SIP_PORT": str(self.sip_port), "DUNLINE_TRUNK_HOST": "127.0.0.1",
                    "DUNLINE_TRUNK_PORT": str(self.pstn_port), "DUNLINE_TRANSCRIPTION_WORKERS": str(workers),
                    "DUNLINE_DRAIN_S": "2"}
        for name in ("DUNLINE_REDIS_URL", "DUNLINE_DATABASE_URL", "DUNLINE_CONFIG", "DUNLINE_USER"):
            self.env.pop(name, None)
        self.at = at
        self.log = data_dir / "serve.log"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        subprocess.run([DUNLINE, "db", "upgrade"], env=self.env, check=True, capture_output=True, timeout=120)
        self.store = Store(f"sqlite:///{data_dir / 'dunline.db'}")

    def start(self) -> None:
        self._spawn("serve", "serve", *(["--at", self.at] if self.at else []))
        deadline = time.monotonic() + START_S
        while not self._healthy():
            serve = self.processes["serve"]
            assert serve.poll() is None, f"dunline serve exited:\n{self.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"dunline serve did not start:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.2)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen([DUNLINE, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        return self.processes[name]

    def add_user(self, name: str, role: Role | str, password: str, totp: bool = False,
                 display_name: str | None = None) -> str | None:
        """A user with a console password; with `totp`, an enrolled TOTP secret, returned (else None)."""
        with self.store.session() as session:
            user = User(username=name, display_name=display_name or name, role=Role(role))
            session.add(user)
            session.flush()
            passwords.set_password(session, user, password, actor="test", now=datetime.now(timezone.utc))
            if totp:
                user.totp_secret = new_secret()
            return user.totp_secret

    def token(self, name: str) -> str:
        """A new API token for the user `name` (machine access, e.g. to seed through the API)."""
        with self.store.session() as session:
            return tokens.mint(session, tokens.find_user(session, name), actor="test",
                               now=datetime.now(timezone.utc)).token

    def screenshot(self, page: Any, name: str) -> Path:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def start_pstn(self, mix: str = "people") -> None:
        """The PSTN simulator on the trunk's port: every number dialled reaches a debtor (`mix` "floor": people,
        machines, busy, no answer as a real list)."""
        self._spawn("pstn", "simulate", "pstn", "--port", str(self.pstn_port), "--mix", mix)

    def start_agents(self, count: int, prefix: str = "agent") -> list[str]:
        """`count` agent bots PREFIX1..N (added as agents if missing): phones that register and answer, each
        saying "ready" over the API with a token of its own."""
        names = [f"{prefix}{n}" for n in range(1, count + 1)]
        with self.store.session() as session:
            known = set(session.scalars(select(User.username)))
            session.add_all(User(username=name, display_name=name, role=Role.AGENT) for name in names
                            if name not in known)
        token_file = self.data_dir / f"{prefix}-tokens.json"
        token_file.write_text(json.dumps({name: self.token(name) for name in names}))
        self._spawn(f"agents-{prefix}", "simulate", "agents", "--count", str(count), "--server",
                    f"127.0.0.1:{self.sip_port}", "--api", self.url, "--token-file", str(token_file),
                    "--prefix", prefix)
        return names

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.store.dispose()


def sign_in(page: Any, name: str, password: str, totp: str | None = None) -> None:
    """Sign in through the form. With a TOTP secret, a code of the current step; if that step's code was used
    already (a code works once), the next step's, after waiting for it."""
    for attempt in range(2):
        page.goto("/signin")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", password)
        if totp is not None:
            page.fill("input[name=code]", code_at(totp, datetime.now(timezone.utc)))
        with page.expect_navigation():
            page.click("#signin button[type=submit]")
        if not page.url.split("?")[0].endswith("/signin"):
            return
        if totp is None or attempt:
            break
        time.sleep(STEP_S - time.time() % STEP_S + 0.5)
    raise AssertionError(f"{name} could not sign in: {page.inner_text('main')}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium, launched once per test module: no longer, since Playwright's synchronous API keeps an event
    loop running in this thread while it is open, and the asyncio tests of the modules after it need the
    thread's loop free."""
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        message = "/usr/bin/chromium missing: install Debian's `chromium` package (deploy/apt-packages.txt)"
        if REQUIRE_SERVERS:
            pytest.fail(message + " but DUNLINE_TEST_REQUIRE_SERVERS=1")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def console(request: pytest.FixtureRequest) -> Iterator[Console]:
    options: dict[str, Any] = getattr(request, "param", {})
    data_dir = Path(tempfile.mkdtemp(prefix="dl-", dir="/tmp"))  # short: the embedded Redis's socket lives there
    server = Console(data_dir, **options)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def browser_page(chromium: Any, console: Console) -> Iterator[Any]:
    context = chromium.new_context(base_url=console.url, viewport={"width": 1280, "height": 860},
                                   locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not errors, f"script errors or CSP violations on the page: {errors}"


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Any:
    return sign_in
