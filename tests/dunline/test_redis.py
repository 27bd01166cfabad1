import asyncio
import contextlib
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from dunline.redis_server import EmbeddedRedis, EmbeddedRedisError, connect, connect_async
from tests.conftest import REDIS_URL, require, server_missing
from tests.integration.peers import free_port


def test_embedded_server_runs_on_a_unix_socket_and_keeps_streams(tmp_path: Path) -> None:
    socket = Path("/tmp") / f"dunline-test-{tmp_path.name}.sock"  # unix socket paths are short
    server = EmbeddedRedis(socket, tmp_path / "redis")
    with server:
        client = redis.Redis.from_url(server.url)
        client.xadd("jobs", {"n": "1"})
        assert client.xlen("jobs") == 1
        with pytest.raises(EmbeddedRedisError, match="already answers"):
            EmbeddedRedis(socket, tmp_path / "other").start()
    assert not socket.exists()
    with EmbeddedRedis(socket, tmp_path / "redis") as again:  # append-only file survives a restart
        assert redis.Redis.from_url(again.url).xlen("jobs") == 1


@pytest.mark.redis_server
def test_real_redis_server_answers() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        server_missing("Redis", error)
    client.set("dunline:test", "1", ex=10)
    assert client.get("dunline:test") == b"1"


class RedisServers:
    """A master, its replica and one sentinel watching them (service "dunline"), real redis-server processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.master, self.replica, self.sentinel = (free_port(socket.SOCK_STREAM) for _ in range(3))
        self.processes: list[subprocess.Popen[bytes]] = []

    def _start(self, *args: str) -> None:
        self.processes.append(subprocess.Popen(["redis-server", *args], stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL, cwd=self.folder))

    def __enter__(self) -> "RedisServers":
        common = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
        self._start("--port", str(self.master), *common)
        self._start("--port", str(self.replica), "--replicaof", "127.0.0.1", str(self.master), *common)
        config = self.folder / "sentinel.conf"
        config.write_text(f"port {self.sentinel}\nbind 127.0.0.1\n"
                          f"sentinel monitor dunline 127.0.0.1 {self.master} 1\n"
                          "sentinel down-after-milliseconds dunline 5000\nsentinel failover-timeout dunline 5000\n")
        self._start(str(config), "--sentinel")
        return self

    def __exit__(self, *_: object) -> None:
        for process in self.processes:
            process.kill()
            process.wait()

    def ask(self, port: int, *command: str) -> object:
        return redis.Redis(port=port, socket_timeout=1, decode_responses=True).execute_command(*command)


def until(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(redis.RedisError):
            if condition():
                return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_sentinel_url_writes_to_the_master_and_to_the_new_one_after_a_failover(tmp_path: Path) -> None:
    require("redis-server")
    with RedisServers(tmp_path) as servers:
        until(lambda: servers.ask(servers.sentinel, "SENTINEL", "REPLICAS", "dunline"))
        url = f"redis+sentinel://127.0.0.1:{servers.sentinel}/dunline/3"
        client = connect(url)
        until(lambda: client.xadd("jobs", {"n": "1"}))  # a master the sentinel has seen down under load: asked again
        assert redis.Redis(port=servers.master, db=3).xlen("jobs") == 1

        async def read() -> int:
            async_client = connect_async(url)
            try:
                return int(await async_client.xlen("jobs"))
            finally:
                await async_client.aclose()
        assert asyncio.run(read()) == 1

        until(lambda: servers.ask(servers.replica, "INFO", "replication")["master_link_status"] == "up")
        # NOGOODSLAVE until the sentinel has heard from the replica itself (it asks every few seconds)
        until(lambda: servers.ask(servers.sentinel, "SENTINEL", "FAILOVER", "dunline"))
        until(lambda: int(servers.ask(servers.sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "dunline")[1])
              == servers.replica)
        until(lambda: servers.ask(servers.master, "ROLE")[0] == "slave")  # the old master demoted
        until(lambda: client.xadd("jobs", {"n": "2"}) is not None)  # the same client: refused there, then the new
        assert redis.Redis(port=servers.replica, db=3).xlen("jobs") == 2


def test_a_bad_sentinel_url_names_the_part_and_not_the_password() -> None:
    with pytest.raises(ValueError, match="'here' is not host:port") as error:
        connect("redis+sentinel://:secret-pw@here/dunline")
    assert "secret-pw" not in str(error.value)
    with pytest.raises(ValueError, match="no service"):
        connect("redis+sentinel://127.0.0.1:26379")
