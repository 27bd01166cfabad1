"""`dunline serve`: the server process, one event loop holding what `dunline.server.Server` composes: the
case store, Redis, the console API, the switchboard (registrar for agents' phones, the trunk when one is
configured), the IVR for inbound calls and the campaign host; beside it, the transcription workers that
transcribe and screen every call's recording (`transcription_workers` processes)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from datetime import datetime

import typer

from dunline.cli.campaign import parse_at
from dunline.cli.context import CliContext, console, fail

# The media clock shares the interpreter with the threads that write attempts and fetch leads: at CPython's
# default 5 ms switch interval a busy thread holds the lock for up to 5 ms at a time. On the 40-agent floor
# (bench/floor.py, same load, 2-core box) 1 ms brought the clock's lateness p99 from 27.2 to 12.1 ms (max 117 to
# 45 ms) for about one point more CPU (26.3% to 27.2%).
SWITCH_INTERVAL_S = 0.001


def serve(ctx: typer.Context,
          at: datetime | None = typer.Option(None, parser=parse_at, metavar="ISO-8601",
                                            help="a simulated wall clock for the gates from this instant (tests, "
                                                 "demos); default: the real one")) -> None:
    """Run the server until interrupted (SIGINT/SIGTERM): the API, the switchboard, the IVR for inbound calls,
    and a runner for every running campaign. SIGTERM stops dialling and lets calls in progress end (at most
    `drain_s`) before it exits."""
    import uvloop

    from dunline.clock import shifted_clock
    from dunline.logs import configure_logging
    from dunline.redis_server import EmbeddedRedis

    cli: CliContext = ctx.obj
    refuse_weak_secrets(cli)
    refuse_exposure(cli)
    refuse_without_master_key(cli)
    configure_logging(cli.settings.log_level)
    store = cli.migrated_store()
    embedded = None
    redis_url = cli.settings.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(cli.settings.redis_socket, cli.settings.data_dir / "redis")
        embedded.start()
        redis_url = embedded.url
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        uvloop.run(_run(cli, store, redis_url, shifted_clock(at)))
    finally:
        if embedded:
            embedded.stop()


def refuse_weak_secrets(cli: CliContext) -> None:
    """Never serve on a shipped or short secret: from the shipped `agent_sip_secret` anyone derives every
    agent's SIP password offline (`dunline.installation`)."""
    from dunline.installation import MIN_SECRET_CHARS, secrets_path, weak_secrets

    weak = weak_secrets(cli.settings)
    if weak:
        problems = "; ".join(f"{name} {why}" for name, why in weak.items())
        variables = ", ".join(f"DUNLINE_{name.upper()}" for name in weak)
        raise fail(f"refusing to serve: {problems}. Set {variables} (or the same keys in the config file) to "
                   f"random values of at least {MIN_SECRET_CHARS} characters, the same on every node; or leave "
                   f"them unset and run `dunline db upgrade`, which generates them into "
                   f"{secrets_path(cli.settings.data_dir)}.")


def refuse_exposure(cli: CliContext) -> None:
    """Never serve the console in the clear beyond this machine (session cookies, passwords and personal data
    would cross the network readable), nor start on a certificate that cannot be loaded."""
    import ssl

    from dunline.exposure import http_tls_context, plain_http_beyond_loopback

    settings = cli.settings
    if plain_http_beyond_loopback(settings):
        raise fail(f"refusing to serve plain HTTP on {settings.http_host!r}, beyond loopback: set "
                   f"DUNLINE_HTTP_TLS_CERT and DUNLINE_HTTP_TLS_KEY (PEM files) to serve HTTPS, or listen on "
                   f"127.0.0.1 behind a TLS proxy")
    try:
        http_tls_context(settings)
    except (OSError, ssl.SSLError) as error:
        raise fail(f"cannot load the HTTPS certificate {settings.http_tls_cert} and key {settings.http_tls_key}: "
                   f"{error}") from None


async def _run(cli: CliContext, store, redis_url: str, clock: Callable[[], datetime]) -> None:  # type: ignore[no-untyped-def]
    from dunline.redis_server import connect_async
    from dunline.server import Server
    from dunline.workers import WorkerSupervisor

    redis_client = connect_async(redis_url)
    workers = WorkerSupervisor(cli.settings, redis_url=redis_url)
    server = Server(settings=cli.settings, store=store, redis_client=redis_client, clock=clock, workers=workers,
                    settle_gc=True)
    await server.start()
    trunk, board = server.board.trunk, server.board
    scheme = "https" if cli.settings.http_tls_cert else "http"
    console.print(f"dunline serving on {scheme}://{cli.settings.http_host}:{cli.settings.http_port} "
                  f"(database {store.backend}, redis {redis_url.split('@')[-1]}); SIP on "
                  f"{board.ua.host}:{board.ua.port}, trunk "
                  f"{f'{trunk.host}:{trunk.port} ({trunk.transport})' if trunk else 'none configured'}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        console.print(f"stopping: no new dials; calls in progress may take up to {cli.settings.drain_s:.0f} s")
    finally:
        await server.stop(cli.settings.drain_s)
        with contextlib.suppress(Exception):
            await redis_client.aclose()
    console.print("stopped: every attempt closed")


def refuse_without_master_key(cli: CliContext) -> None:
    """Recordings are sealed at rest: without a readable master key, say which file and variable, and stop."""
    from crypto import CryptoError
    from dunline.server import require_master_key

    try:
        require_master_key(cli.settings)
    except CryptoError as error:
        raise fail(f"refusing to serve: {error}") from None
