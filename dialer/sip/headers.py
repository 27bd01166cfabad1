"""Structured SIP header values: Via (RFC 3261 §20.42, §18.2.1 received/rport) and name-addr
(From, To, Contact, Route, Record-Route; §20.10, §25.1) with their parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dialer.sip.message import SipParseError

BRANCH_MAGIC = "z9hG4bK"  # RFC 3261 §8.1.1.7
_VIA = re.compile(r"^SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+([^;\s]+)\s*(;.*)?$")


def parse_params(text: str) -> dict[str, str | None]:
    """';a=b;c' -> {'a': 'b', 'c': None}; names lower-cased, quoted values kept without quotes."""
    params: dict[str, str | None] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1]
        params[name.strip().lower()] = value if eq else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


@dataclass
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    def __str__(self) -> str:
        hostport = f"{self.host}:{self.port}" if self.port else self.host
        return f"SIP/2.0/{self.transport} {hostport}{format_params(self.params)}"


def parse_via(value: str) -> Via:
    match = _VIA.match(value.strip())
    if match is None:
        raise SipParseError(f"bad Via {value[:80]!r}")
    transport, hostport, rest = match.group(1).upper(), match.group(2), match.group(3) or ""
    host, port = split_hostport(hostport)
    return Via(transport, host, port, parse_params(rest))


def split_hostport(text: str) -> tuple[str, int | None]:
    if text.startswith("["):  # IPv6 reference
        end = text.find("]")
        if end < 0:
            raise SipParseError(f"bad IPv6 host {text!r}")
        host, rest = text[: end + 1], text[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.partition(":")
    if not host:
        raise SipParseError(f"empty host in {text!r}")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SipParseError(f"bad port in {text!r}")
        return host, int(port_text)
    return host, None


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (`sip:+8613800000001@host` -> `+8613800000001`), or "" when none."""
    rest = uri.split(":", 1)[-1]
    return rest.split("@")[0] if "@" in rest else ""


@dataclass
class NameAddr:
    uri: str
    display: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    @property
    def user(self) -> str:
        return uri_user(self.uri)

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


def parse_name_addr(value: str) -> NameAddr:
    """`"Name" <sip:u@h;uriparam>;tag=x` or a bare `sip:u@h;tag=x` (header params then follow the URI)."""
    text = value.strip()
    display = None
    if text.startswith('"'):
        end, escaped = 1, False
        while end < len(text):
            if escaped:
                escaped = False
            elif text[end] == "\\":
                escaped = True
            elif text[end] == '"':
                break
            end += 1
        if end >= len(text):
            raise SipParseError(f"unterminated display name in {text[:80]!r}")
        display, text = text[1:end], text[end + 1 :].strip()
    if "<" in text:
        before, _, rest = text.partition("<")
        uri, closing, after = rest.partition(">")
        if not closing:
            raise SipParseError(f"missing '>' in {value[:80]!r}")
        display = display or (before.strip() or None)
        return NameAddr(uri.strip(), display, parse_params(after))
    uri, _, after = text.partition(";")
    if ":" not in uri:
        raise SipParseError(f"not a URI: {value[:80]!r}")
    return NameAddr(uri.strip(), display, parse_params(after))
