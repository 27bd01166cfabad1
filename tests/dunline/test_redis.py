from pathlib import Path

import pytest
import redis

from dunline.redis_server import EmbeddedRedis, EmbeddedRedisError
from tests.conftest import REDIS_URL, server_missing


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
