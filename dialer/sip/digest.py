"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 8760 SHA-256), client and server.

The client side is a flow with no I/O inside (httpx's auth-flow pattern): `response = yield request`.
Written once, it serves trunk INVITE/REGISTER challenges (401 WWW-Authenticate, 407 Proxy-Authenticate);
the server side (registrar) issues challenges and checks answers against a password lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Generator
from dataclasses import dataclass

from dialer.sip.message import SipRequest, SipResponse, parse_cseq

ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class DigestError(ValueError):
    """A challenge or credentials header that cannot be understood."""


@dataclass(frozen=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str | None = None
    opaque: str | None = None
    stale: bool = False


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def _fields(value: str) -> dict[str, str | None]:
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not a Digest header: {value[:60]!r}")
    # Comma separated name=value pairs; a quoted value may hold ';' or ',' (a uri with ;transport=udp).
    fields: dict[str, str | None] = {}
    for part in _split_commas(rest):
        name, eq, value = part.strip().partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name.strip():
            fields[name.strip().lower()] = value if eq else None
    return fields


def _split_commas(text: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_challenge(value: str) -> Challenge:
    fields = _fields(value)
    if not fields.get("realm") or not fields.get("nonce"):
        raise DigestError("challenge without realm or nonce")
    algorithm = (fields.get("algorithm") or "MD5").upper()
    if algorithm not in ALGORITHMS:
        raise DigestError(f"unsupported algorithm {algorithm}")
    qops = [q.strip() for q in (fields.get("qop") or "").split(",") if q.strip()]
    return Challenge(realm=fields["realm"] or "", nonce=fields["nonce"] or "", algorithm=algorithm,
                     qop="auth" if "auth" in qops else None, opaque=fields.get("opaque"),
                     stale=(fields.get("stale") or "").lower() == "true")


def _hash(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode()).hexdigest()


def digest_response(credentials: Credentials, challenge: Challenge, method: str, uri: str,
                    cnonce: str | None = None, nc: int = 1) -> str:
    ha1 = _hash(challenge.algorithm, f"{credentials.username}:{challenge.realm}:{credentials.password}")
    ha2 = _hash(challenge.algorithm, f"{method}:{uri}")
    if challenge.qop == "auth":
        return _hash(challenge.algorithm, f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
    return _hash(challenge.algorithm, f"{ha1}:{challenge.nonce}:{ha2}")


def authorization(credentials: Credentials, challenge: Challenge, method: str, uri: str,
                  cnonce: str | None = None, nc: int = 1) -> str:
    cnonce = cnonce or secrets.token_hex(8)
    parts = [f'username="{credentials.username}"', f'realm="{challenge.realm}"', f'nonce="{challenge.nonce}"',
             f'uri="{uri}"', f'response="{digest_response(credentials, challenge, method, uri, cnonce, nc)}"',
             f"algorithm={challenge.algorithm}"]
    if challenge.qop == "auth":
        parts += ["qop=auth", f'cnonce="{cnonce}"', f"nc={nc:08x}"]
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)


AuthFlow = Generator[SipRequest, SipResponse, None]


def auth_flow(request: SipRequest, credentials: Credentials, rebuild: Callable[[SipRequest], SipRequest]) -> AuthFlow:
    """Send `request`; on a 401/407 send it once more with credentials (again only if the nonce was stale).

    `rebuild` makes the new request of the same transaction family (new branch; the CSeq is bumped here).
    """
    response = yield request
    answered: set[str] = set()
    while response.status in (401, 407):
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        value = response.get(header)
        if value is None:
            return
        challenge = parse_challenge(value)
        if challenge.nonce in answered or (answered and not challenge.stale):
            return  # our credentials were refused: give the failure to the caller
        answered.add(challenge.nonce)
        retry = rebuild(request)
        number, method = parse_cseq(request.get("CSeq") or "")
        retry.set("CSeq", f"{number + 1} {method}")
        retry.set("Authorization" if response.status == 401 else "Proxy-Authorization",
                  authorization(credentials, challenge, retry.method, retry.uri))
        request = retry
        response = yield request


def make_challenge(realm: str, algorithm: str = "MD5", stale: bool = False) -> tuple[str, str]:
    """(nonce, WWW-Authenticate value) for a registrar challenge."""
    nonce = secrets.token_hex(16)
    value = f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}, qop="auth"'
    return nonce, value + (", stale=true" if stale else "")


@dataclass(frozen=True)
class DigestAnswer:
    """An Authorization header's digest answer (§22.4), parsed once: the registrar checks its nonce and count
    before it looks a password up, and the response only after."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    cnonce: str | None = None
    nc: int = 1  # an answer without qop counts as 1: its nonce is single-use

    def matches(self, password: str, method: str) -> bool:
        challenge = Challenge(realm=self.realm, nonce=self.nonce, algorithm=self.algorithm, qop=self.qop)
        expected = digest_response(Credentials(self.username, password), challenge, method, self.uri,
                                   self.cnonce, self.nc)
        return hmac.compare_digest(expected, self.response)


def parse_answer(value: str) -> DigestAnswer | None:
    """The digest answer in an Authorization header; None when there is none or it cannot be checked."""
    try:
        fields = _fields(value)
    except DigestError:
        return None
    username, nonce, uri = fields.get("username"), fields.get("nonce"), fields.get("uri")
    algorithm = (fields.get("algorithm") or "MD5").upper()
    if not username or not nonce or not uri or algorithm not in ALGORITHMS:
        return None
    try:
        nc = int(fields.get("nc") or "1", 16)
    except ValueError:
        return None
    return DigestAnswer(username=username, realm=fields.get("realm") or "", nonce=nonce, uri=uri,
                        response=fields.get("response") or "", algorithm=algorithm,
                        qop="auth" if fields.get("qop") == "auth" else None, cnonce=fields.get("cnonce"), nc=nc)
