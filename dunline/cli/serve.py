"""`dunline serve`: the server process: Redis, the case store, the console API, and the switchboard (SIP
user agent and registrar for agents' phones, the trunk when one is configured) in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import redis.asyncio as aioredis
import typer
import uvloop
from aiohttp import web

from console import build_app
from dunline.cli.context import CliContext, console, fail
from dunline.installation import MIN_SECRET_CHARS, secrets_path, weak_secrets
from dunline.logs import configure_logging
from dunline.redis_server import EmbeddedRedis
from dunline.telephony import build_switchboard


def serve(ctx: typer.Context) -> None:
    """Run the server until interrupted (SIGINT/SIGTERM)."""
    cli: CliContext = ctx.obj
    refuse_weak_secrets(cli)
    configure_logging(cli.settings.log_level)
    store = cli.migrated_store()
    embedded = None
    redis_url = cli.settings.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(cli.settings.redis_socket, cli.settings.data_dir / "redis")
        embedded.start()
        redis_url = embedded.url
    try:
        uvloop.run(_run(cli, store, redis_url))
    finally:
        if embedded:
            embedded.stop()


def refuse_weak_secrets(cli: CliContext) -> None:
    """Never serve on a shipped or short secret: from the shipped `agent_sip_secret` anyone derives every
    agent's SIP password offline (`dunline.installation`)."""
    weak = weak_secrets(cli.settings)
    if weak:
        problems = "; ".join(f"{name} {why}" for name, why in weak.items())
        variables = ", ".join(f"DUNLINE_{name.upper()}" for name in weak)
        raise fail(f"refusing to serve: {problems}. Set {variables} (or the same keys in the config file) to "
                   f"random values of at least {MIN_SECRET_CHARS} characters, the same on every node; or leave "
                   f"them unset and run `dunline db upgrade`, which generates them into "
                   f"{secrets_path(cli.settings.data_dir)}.")


async def _run(cli: CliContext, store, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    redis_client = aioredis.from_url(redis_url)
    runner = web.AppRunner(build_app(store=store, redis_client=redis_client))
    await runner.setup()
    site = web.TCPSite(runner, cli.settings.http_host, cli.settings.http_port)
    await site.start()
    switchboard = build_switchboard(cli.settings, store)
    await switchboard.start()
    trunk = switchboard.trunk
    console.print(f"dunline serving on http://{cli.settings.http_host}:{cli.settings.http_port} "
                  f"(database {store.backend}, redis {redis_url.split('@')[-1]}); SIP on "
                  f"{switchboard.ua.host}:{switchboard.ua.port}, trunk "
                  f"{f'{trunk.host}:{trunk.port} ({trunk.transport})' if trunk else 'none configured'}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await switchboard.close()
        await runner.cleanup()
        with contextlib.suppress(Exception):
            await redis_client.aclose()
