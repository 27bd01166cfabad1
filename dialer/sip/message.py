"""SIP messages (RFC 3261 §7, grammar in §25): parse from bytes, serialise to bytes.

A message is a start line, an ordered multi-map of headers and a body. Header names are compared
case-insensitively and compact forms (§7.3.3) are expanded; comma-separated values of list headers
(Via, Route, Record-Route, Contact, ...) are split (§7.3.1) outside quoted strings and angle brackets;
line folding (§7.3.1) is unfolded. Anything malformed raises `SipParseError` with what was wrong, so the
transport can drop the datagram (or close the stream), and never crash.

Size caps (issue 14, item 9). A response copies its request's Vias (§8.2.6.2), so a request with a thousand
Vias from a forged source address would be reflected, retransmitted, at many times its size. Header fields
are therefore counted after list splitting (a comma list in one line is as many fields as it has values):
at most MAX_HEADERS fields and MAX_VIAS Vias (70: the Max-Forwards default, so about as many proxies as a
request may pass), in at most MAX_MESSAGE_BYTES. What is sent back is bounded too, in `layer.send_raw`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"
MAX_MESSAGE_BYTES = 65_535
MAX_HEADERS = 256
MAX_VIAS = 70

COMPACT = {"i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length", "c": "Content-Type",
           "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via", "o": "Event", "r": "Refer-To",
           "u": "Allow-Events", "x": "Session-Expires", "b": "Referred-By"}
CANONICAL = {name.lower(): name for name in (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Content-Length", "Content-Type",
    "Route", "Record-Route", "Authorization", "WWW-Authenticate", "Proxy-Authenticate", "Proxy-Authorization",
    "Expires", "Allow", "Supported", "Require", "User-Agent", "Server", "Event", "Subject", "Reason",
    "Content-Encoding", "Refer-To", "Session-Expires", "Min-Expires", "Accept", "Unsupported", "Warning",
    "Allow-Events", "Referred-By", "P-Asserted-Identity", "Date", "Timestamp", "Retry-After")}
LIST_HEADERS = frozenset({"via", "route", "record-route", "contact", "allow", "supported", "require",
                          "accept", "unsupported", "proxy-require", "allow-events"})
_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
_REQUEST_LINE = re.compile(r"^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP/2\.0$")
_STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6]\d\d) ?(.*)$")


class SipParseError(ValueError):
    """A message that does not follow the RFC 3261 grammar closely enough to be handled."""


def canonical_name(name: str) -> str:
    lower = name.lower()
    if lower in COMPACT:
        return COMPACT[lower]
    return CANONICAL.get(lower, name)


def split_list(value: str) -> list[str]:
    """Split a header value on top-level commas (not inside quotes or <...>)."""
    parts, current, quoted, angle, escaped = [], [], False, 0, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            angle += 1
        elif not quoted and char == ">":
            angle = max(0, angle - 1)
        elif char == "," and not quoted and angle == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


@dataclass
class SipMessage:
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    wire_size: int | None = field(default=None, compare=False, repr=False)  # bytes it came in; None: built here

    def get(self, name: str) -> str | None:
        wanted = canonical_name(name).lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        wanted = canonical_name(name).lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def set(self, name: str, value: str) -> None:
        name = canonical_name(name)
        self.remove(name)
        self.headers.append((name, value))

    def add(self, name: str, value: str, first: bool = False) -> None:
        entry = (canonical_name(name), value)
        if first:
            self.headers.insert(0, entry)
        else:
            self.headers.append(entry)

    def remove(self, name: str) -> None:
        wanted = canonical_name(name).lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != wanted]

    def start_line(self) -> str:
        raise TypeError("a SIP message is a SipRequest or a SipResponse")

    def to_bytes(self) -> bytes:
        lines = [self.start_line()]
        lines += [f"{name}: {value}" for name, value in self.headers if name.lower() != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class SipRequest(SipMessage):
    method: str = "OPTIONS"
    uri: str = ""

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {SIP_VERSION}"


@dataclass
class SipResponse(SipMessage):
    status: int = 200
    reason: str = "OK"
    request_size: int | None = field(default=None, compare=False, repr=False)  # wire_size of what it answers

    def start_line(self) -> str:
        return f"{SIP_VERSION} {self.status} {self.reason}"


def parse(data: bytes, stream: bool = False) -> SipRequest | SipResponse:
    """Parse one message. With `stream` (TCP) a Content-Length header is mandatory (§18.3)."""
    wire_size = len(data)
    if wire_size > MAX_MESSAGE_BYTES:
        raise SipParseError(f"message of {wire_size} bytes exceeds {MAX_MESSAGE_BYTES}")
    data = data.lstrip(b"\r\n")  # keep-alive CRLFs before a message are allowed (§7.5)
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")  # be liberal: bare LF line ends
        if not separator:
            raise SipParseError("no blank line after the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("headers are not UTF-8") from None
    lines = text.replace("\r\n", "\n").split("\n")
    start, header_lines = lines[0].strip(), lines[1:]
    message: SipRequest | SipResponse
    if (match := _REQUEST_LINE.match(start)) is not None:
        message = SipRequest(method=match.group(1), uri=match.group(2))
    elif (match := _STATUS_LINE.match(start)) is not None:
        message = SipResponse(status=int(match.group(1)), reason=match.group(2))
    else:
        raise SipParseError(f"bad start line {start[:80]!r}")
    message.headers, message.wire_size = _parse_headers(header_lines), wire_size
    declared = message.get("Content-Length")
    if declared is None:
        if stream:
            raise SipParseError("Content-Length is required on stream transports")
    else:
        if not declared.strip().isdigit():
            raise SipParseError(f"bad Content-Length {declared!r}")
        length = int(declared)
        if length > len(body):
            raise SipParseError(f"Content-Length {length} but only {len(body)} body bytes")
        body = body[:length]
    message.body = body
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        if not message.get(name):
            raise SipParseError(f"missing mandatory header {name}")
    if isinstance(message, SipRequest):
        cseq_method = parse_cseq(message.get("CSeq") or "")[1]
        if cseq_method != message.method:
            raise SipParseError(f"CSeq method {cseq_method} does not match request method {message.method}")
    return message


def _parse_headers(lines: list[str]) -> list[tuple[str, str]]:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not unfolded:
                raise SipParseError("continuation line before any header")
            unfolded[-1] += " " + line.strip()
        elif line.strip():
            unfolded.append(line)
    headers: list[tuple[str, str]] = []
    vias = 0
    for line in unfolded:
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.match(name):
            raise SipParseError(f"bad header line {line[:80]!r}")
        name, value = canonical_name(name), value.strip()
        values = split_list(value) if name.lower() in LIST_HEADERS else [value]
        headers.extend((name, part) for part in values)
        vias += len(values) if name == "Via" else 0
        if vias > MAX_VIAS:
            raise SipParseError(f"more than {MAX_VIAS} Via header fields")
        if len(headers) > MAX_HEADERS:
            raise SipParseError(f"more than {MAX_HEADERS} header fields")
    return headers


def parse_cseq(value: str) -> tuple[int, str]:
    number, _, method = value.strip().partition(" ")
    method = method.strip()
    if not number.isdigit() or len(number) > 10 or int(number) >= 2**31 or not _TOKEN.match(method or "-"):
        raise SipParseError(f"bad CSeq {value!r}")
    return int(number), method
