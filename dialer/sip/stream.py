"""Stream transports (RFC 3261 §18.3): SIP over TCP and TLS, with the shape of `UdpTransport`.

A stream differs from datagrams in three ways that this module exists to handle:

- Framing. A stream has no message boundaries: a message is its headers up to the blank line plus exactly
  Content-Length body bytes, so Content-Length is mandatory (§18.3, §20.14). A stream that cannot be
  framed (no or bad Content-Length, over MAX_MESSAGE_BYTES) or a message that does not parse cannot be
  resynchronised, so that connection is counted malformed and closed; the listener carries on.
- Connections. A message to an address reuses the open connection to or from it: a response goes back on
  the connection its request came in on (§18.2.2), keyed by the peer's source address. Otherwise a
  connection is opened and writes queue until it is up. Idle connections are closed. RFC 5923 `alias`
  is not honoured: it is meant only for mutually authenticated TLS, and on plain TCP any peer could
  claim another's address.
- Keep-alive (RFC 5626 §3.5.1). A double CRLF "ping" is answered with a single CRLF "pong"; other CRLFs
  between messages are skipped (§7.5). Reliable delivery also lets the transaction layer skip
  retransmissions (§17.1.1.2), hence `reliable = True`.
- Abuse limits (`ratelimit.py`). A connection to the listener is admitted by its source's `ConnectionLimit`
  (connections open at once, new ones a second) before anything else: a refused one is reset unanswered, and
  TLS is started only on an admitted one, so a flood of connections never costs a handshake. An admitted
  handshake has HANDSHAKE_TIMEOUT_S to finish. Each frame (message or ping) then spends a token of the
  source's `SourceRateLimit`, shared with the UDP socket; past it the connection is closed. Refusals and
  closings are logged with the source, once per episode.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass, field

from dialer.sip.message import MAX_MESSAGE_BYTES, SipParseError, parse
from dialer.sip.ratelimit import ConnectionLimit, SourceRateLimit
from dialer.sip.transport import Address, Handler, TransportStats

log = logging.getLogger(__name__)
DEFAULT_IDLE_TIMEOUT_S = 120.0  # well past Timer B/F (32 s) and a ring timeout
HANDSHAKE_TIMEOUT_S = 10.0  # a phone's TLS handshake takes milliseconds; asyncio's default (60 s) feeds a slow-loris
READ_BYTES = 65_536
PING, PONG = b"\r\n\r\n", b"\r\n"
_CONTENT_LENGTH = (b"content-length", b"l")


class FramingError(SipParseError):
    """The byte stream cannot be split into messages: the connection must be closed."""


class SourceLimited(Exception):
    """The connection's source is past its request rate: the connection must be closed."""


class StreamFramer:
    """Splits received bytes into whole messages and keep-alive pings; plain and synchronous."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next whole message, `PING` for a keep-alive ping, or None until more bytes arrive."""
        buffer = self._buffer
        while buffer.startswith(b"\r\n"):
            if buffer.startswith(PING):
                del buffer[:4]
                return PING
            del buffer[:2]  # a pong, or a CRLF before a message
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_MESSAGE_BYTES:
                raise FramingError(f"no end of headers within {MAX_MESSAGE_BYTES} bytes")
            return None
        size = end + 4 + _content_length(bytes(buffer[:end]))
        if size > MAX_MESSAGE_BYTES:
            raise FramingError(f"message of {size} bytes exceeds {MAX_MESSAGE_BYTES}")
        if len(buffer) < size:
            return None
        frame = bytes(buffer[:size])
        del buffer[:size]
        return frame


def _content_length(head: bytes) -> int:
    """The body length a message head declares (long or compact form); exactly one value is required."""
    lines = head.split(b"\r\n")[1:]
    values = {value.strip() for name, colon, value in (line.partition(b":") for line in lines)
              if colon and name.rstrip(b" \t").lower() in _CONTENT_LENGTH}
    if len(values) != 1:
        raise FramingError("Content-Length is " + ("missing" if not values else "given twice, differently"))
    (value,) = values
    if not value.isdigit() or len(value) > 10:
        raise FramingError(f"bad Content-Length {value[:20]!r}")
    return int(value)


@dataclass(eq=False)
class Connection:
    """One TCP or TLS connection; what is written while it is still connecting is queued."""

    peer: Address
    writer: asyncio.StreamWriter | None = None
    task: asyncio.Task[None] | None = None
    idle: asyncio.TimerHandle | None = None
    last_active: float = 0.0
    pending: list[bytes] = field(default_factory=list)

    def write(self, data: bytes) -> None:
        self.last_active = asyncio.get_running_loop().time()
        if self.writer is None:
            self.pending.append(data)
        else:
            self.writer.write(data)

    def attach(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        writer.writelines(self.pending)
        self.pending.clear()


class StreamTransport:
    """A TCP listener (TLS with `ssl_context`) and the connections to and from it, keyed by peer address."""

    reliable = True
    name = "TCP"

    def __init__(self, handler: Handler, *, client_ssl: ssl.SSLContext | None = None,
                 server_hostname: str | None = None, idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
                 limit: SourceRateLimit | None = None, connection_limit: ConnectionLimit | None = None) -> None:
        self.handler = handler
        self.client_ssl = client_ssl  # None: outgoing connections are plain TCP
        self.server_hostname = server_hostname  # None: the peer's host, as asyncio does
        self.idle_timeout = idle_timeout
        self.limit = limit  # requests per source host, on every connection
        self.connection_limit = connection_limit  # connections per source host, on the listener
        self.stats = TransportStats()
        self.local: Address = ("0.0.0.0", 0)
        self.connections: dict[Address, Connection] = {}
        self._server: asyncio.Server | None = None
        self._server_ssl: ssl.SSLContext | None = None

    @classmethod
    async def bind(cls, host: str, port: int, handler: Handler, ssl_context: ssl.SSLContext | None = None, *,
                   client_ssl: ssl.SSLContext | None = None, server_hostname: str | None = None,
                   idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S, limit: SourceRateLimit | None = None,
                   connection_limit: ConnectionLimit | None = None) -> StreamTransport:
        """Listen on host:port; with `ssl_context` it is TLS, and outgoing connections verify the peer
        with `client_ssl` (default: the system's trusted CAs and host name checking). `limit` and
        `connection_limit`: the per-source abuse limits (see the module's docstring); None: unlimited."""
        if ssl_context is not None and client_ssl is None:
            client_ssl = ssl.create_default_context()
        transport = cls(handler, client_ssl=client_ssl, server_hostname=server_hostname,
                        idle_timeout=idle_timeout, limit=limit, connection_limit=connection_limit)
        transport.name = "TLS" if ssl_context is not None or client_ssl is not None else "TCP"
        transport._server_ssl = ssl_context  # started on each connection once admitted
        transport._server = await asyncio.start_server(transport._accepted, host, port)
        transport.local = transport._server.sockets[0].getsockname()[:2]
        return transport

    def send(self, data: bytes, address: Address) -> None:
        if self._server is None or not self._server.is_serving():
            return  # closed
        connection = self.connections.get(address)
        if connection is None:
            connection = self._track(Connection(address))
            connection.task = asyncio.get_running_loop().create_task(self._serve(connection, None))
        self.stats.sent += 1
        connection.write(data)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections.values()):
            self._close(connection)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer: Address = writer.get_extra_info("peername")[:2]
        limit = self.connection_limit
        if limit is not None and (refused := limit.admit(peer[0], time.monotonic())) is not None:
            self.stats.refused += 1
            if limit.newly_refused(peer[0]):
                log.warning("SIP %s connections from %s refused: %s", self.name, peer[0], refused)
            writer.transport.abort()  # reset, unanswered: no handshake, nothing read
            return
        try:
            if self._server_ssl is not None:
                try:
                    await writer.start_tls(self._server_ssl, ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S)
                except OSError as error:  # a failed or unfinished handshake (TimeoutError included)
                    log.info("TLS handshake with %s failed: %s", peer, error or error.__class__.__name__)
                    writer.transport.abort()
                    return
            connection = self._track(Connection(peer, writer))
            connection.task = asyncio.current_task()
            await self._serve(connection, reader)
        finally:
            if limit is not None:
                limit.release(peer[0])

    def _track(self, connection: Connection) -> Connection:
        connection.last_active = asyncio.get_running_loop().time()
        self.connections[connection.peer] = connection
        self._watch_idle(connection)
        return connection

    def _watch_idle(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        left = connection.last_active + self.idle_timeout - loop.time()
        if left <= 0:
            log.debug("closing idle connection with %s", connection.peer)
            self._close(connection)
        else:
            connection.idle = loop.call_later(left, self._watch_idle, connection)

    async def _serve(self, connection: Connection, reader: asyncio.StreamReader | None) -> None:
        """Connect first when outgoing (no reader yet), then read until EOF, error, idle or close()."""
        try:
            if reader is None:
                host, port = connection.peer
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self.client_ssl, server_hostname=self.server_hostname if self.client_ssl else None)
                connection.attach(writer)
            framer = StreamFramer()
            while data := await reader.read(READ_BYTES):
                connection.last_active = asyncio.get_running_loop().time()
                framer.feed(data)
                while (frame := framer.next_frame()) is not None:
                    self._receive(connection, frame)
        except SipParseError as error:  # FramingError included
            self.stats.malformed += 1
            log.info("closing connection with %s: %s", connection.peer, error)
        except SourceLimited:
            pass  # counted and logged where the limit was met
        except OSError as error:  # refused, reset, TLS handshake failure (ssl.SSLError)
            log.info("connection with %s failed: %s", connection.peer, error)
        finally:
            self._forget(connection)

    def _receive(self, connection: Connection, frame: bytes) -> None:
        host = connection.peer[0]
        if self.limit is not None and not self.limit.allow(host, time.monotonic()):
            self.stats.limited += 1
            if self.limit.newly_limited(host):
                log.warning("SIP %s connection from %s closed: over %s requests/s (burst %s)", self.name, host,
                            self.limit.rate, self.limit.burst)
            raise SourceLimited(host)
        if frame == PING:
            connection.write(PONG)
            return
        self.stats.received += 1
        message = parse(frame, stream=True)
        try:
            self.handler(message, connection.peer)
        except Exception:  # a bug in a handler must not take the connection down
            log.exception("SIP handler failed")

    def _close(self, connection: Connection) -> None:
        self._forget(connection)
        if connection.writer is None and connection.task is not None:
            connection.task.cancel()  # still connecting

    def _forget(self, connection: Connection) -> None:
        """Stop using a connection and close its socket, which ends its read loop (EOF)."""
        if connection.idle is not None:
            connection.idle.cancel()
        if self.connections.get(connection.peer) is connection:
            del self.connections[connection.peer]
        if connection.writer is not None:
            connection.writer.close()
