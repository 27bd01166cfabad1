"""Master keys: they wrap the per-file data keys and never enter the database.

Where they come from, first found wins:

- `DUNLINE_MASTER_KEY`: `ID:BASE64[,ID:BASE64...]`, the first the current key (for an installation whose keys
  live in a secrets manager and reach the process through its environment);
- `<data_dir>/master.key`, owner-only (0600), written by `dunline db upgrade` like `secrets.toml`:

      current = "3f9a1c07"
      [keys]
      "3f9a1c07" = "<base64 of 32 random bytes>"
      "b71e0d44" = "<an older key, kept until no file is wrapped by it>"

Several keys by id make rotation possible without downtime: `dunline keys rotate` adds a new current key and
re-wraps every sealed file's data key to it (the payload is not re-encrypted); a running server picks the new
file up at its next use (`MasterKeys` rereads the file when it changes), and the old key is dropped once no
file needs it.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.errors import KeyMissing, NoMasterKey, WrongKey

KEY_FILE = "master.key"
ENVIRONMENT = "DUNLINE_MASTER_KEY"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
MAX_ID_BYTES = 23  # fits the sealed header's key id field


@dataclass(frozen=True, repr=False)
class MasterKey:
    id: str
    secret: bytes

    def __post_init__(self) -> None:
        if not 0 < len(self.id.encode()) <= MAX_ID_BYTES or not self.id.isprintable() or "," in self.id:
            raise ValueError(f"a master key id is 1-{MAX_ID_BYTES} printable bytes without commas: {self.id!r}")
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"master key {self.id!r} is {len(self.secret)} bytes, not {KEY_BYTES}")

    def __repr__(self) -> str:  # never the secret, in a traceback or a log
        return f"MasterKey({self.id!r})"


def generate_key() -> MasterKey:
    return MasterKey(secrets.token_hex(4), secrets.token_bytes(KEY_BYTES))


class Keyring:
    """Master keys by id; the first is current: new files are wrapped with it."""

    def __init__(self, keys: Sequence[MasterKey]) -> None:
        if not keys:
            raise NoMasterKey("no master key configured: run `dunline db upgrade` (it writes <data_dir>/master.key) "
                              f"or set {ENVIRONMENT}")
        self.keys = {key.id: key for key in keys}
        if len(self.keys) != len(keys):
            raise ValueError("two master keys share one id")
        self.current = keys[0]

    @property
    def ids(self) -> list[str]:
        return list(self.keys)

    def get(self, key_id: str) -> MasterKey:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyMissing(key_id) from None

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes, bytes]:
        """(key id, nonce, wrapped key): `data_key` sealed by the current key, bound to `context`."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return self.current.id, nonce, AESGCM(self.current.secret).encrypt(nonce, data_key, context)

    def unwrap(self, key_id: str, nonce: bytes, wrapped: bytes, context: bytes, what: str) -> bytes:
        try:
            return AESGCM(self.get(key_id).secret).decrypt(nonce, wrapped, context)
        except InvalidTag:
            raise WrongKey(key_id, what) from None


def _secret(key_id: str, text: str) -> MasterKey:
    try:
        return MasterKey(key_id, base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"master key {key_id!r} is not base64 of {KEY_BYTES} bytes ({error})") from None


def parse_environment(value: str) -> Keyring:
    keys = []
    for item in value.split(","):
        key_id, colon, text = item.strip().partition(":")
        if not colon:
            raise ValueError(f"{ENVIRONMENT} is ID:BASE64[,ID:BASE64...]")
        keys.append(_secret(key_id, text))
    return Keyring(keys)


def parse_key_file(text: str) -> Keyring:
    data = tomllib.loads(text)
    stored = {str(key_id): _secret(str(key_id), str(value)) for key_id, value in data.get("keys", {}).items()}
    current = str(data.get("current", ""))
    if current not in stored:
        raise ValueError(f"the key file's current key {current!r} is not among its keys")
    return Keyring([stored[current], *(key for key_id, key in stored.items() if key_id != current)])


def key_file_text(keyring: Keyring) -> str:
    lines = ["# Dunline master keys (`dunline keys`): they open every recording and transcript. Owner-only; back",
             "# it up apart from the data: without it the sealed files are unreadable.",
             f'current = "{keyring.current.id}"', "[keys]"]
    lines += [f'"{key.id}" = "{base64.b64encode(key.secret).decode()}"' for key in keyring.keys.values()]
    return "\n".join(lines) + "\n"


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Replace the key file at once (a temporary file renamed over it), owner-only from its first byte."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key_file_text(keyring))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def ensure_key_file(path: Path) -> Path | None:
    """Write a key file with one fresh key unless it exists; the path when written."""
    if path.exists():
        return None
    MasterKeys(path, environ={}).add()
    return path


class MasterKeys:
    """The key service: the keyring from the environment, else from the key file, read again whenever the file
    changes (a rotation by another process reaches a running server without a restart). Pickles as its path, so
    it travels to spawned worker processes without key material (they read the same file or environment)."""

    def __init__(self, path: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.environ = os.environ if environ is None else environ
        self._cached: tuple[tuple[int, int, int], Keyring] | None = None

    def __reduce__(self) -> tuple[type[MasterKeys], tuple[Path]]:
        return MasterKeys, (self.path,)

    @property
    def from_environment(self) -> bool:
        return bool(self.environ.get(ENVIRONMENT))

    def keyring(self) -> Keyring:
        if value := self.environ.get(ENVIRONMENT):
            return parse_environment(value)
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return Keyring([])  # raises NoMasterKey, saying how to make one
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._cached is None or self._cached[0] != version:
            self._cached = version, parse_key_file(self.path.read_text())
        return self._cached[1]

    def require(self) -> Keyring:
        """The keyring, or NoMasterKey naming the key file and the environment variable: for start-up, where a
        missing, unreadable or malformed key must stop the process before anything is written in the clear."""
        where = f"{ENVIRONMENT}" if self.from_environment else f"{self.path} (or {ENVIRONMENT})"
        try:
            return self.keyring()
        except NoMasterKey:
            raise NoMasterKey(f"no master key: {self.path} does not exist and {ENVIRONMENT} is not set; run "
                              "`dunline db upgrade` (it writes the key file) or set the variable") from None
        except (OSError, ValueError) as error:  # TOMLDecodeError is a ValueError
            raise NoMasterKey(f"cannot read the master key from {where}: {error}") from None

    def add(self) -> MasterKey:
        """A new current key in the key file, made if missing (the others kept, to open files not yet
        re-wrapped)."""
        self._refuse_environment("add a key")
        key = generate_key()
        kept = list(self.keyring().keys.values()) if self.path.exists() else []
        write_key_file(self.path, Keyring([key, *kept]))
        return key

    def drop(self, key_id: str) -> None:
        """Remove a key that is not current from the key file."""
        self._refuse_environment("drop a key")
        keyring = self.keyring()
        keyring.get(key_id)
        if key_id == keyring.current.id:
            raise ValueError(f"master key {key_id!r} is current; rotate first")
        write_key_file(self.path, Keyring([key for key in keyring.keys.values() if key.id != key_id]))

    def _refuse_environment(self, what: str) -> None:
        if self.from_environment:
            raise ValueError(f"the keys come from {ENVIRONMENT}: {what} there, not in {self.path}")
