"""An agent's softphone over SIP/TLS with SRTP: baresip registers to our TLS listener with `;transport=tls` and
`mediaenc=srtp-mand`, answers its nailed-up leg on that same connection and is bridged to a debtor. What
crosses the wire between it and us is SRTP (read off the host's UDP traffic: no plain payload we sent or
received appears there), while the debtor's recording still holds the agent's voice."""

import asyncio
import socket
import struct
from pathlib import Path

import numpy as np

from dialer.switchboard import Switchboard, Trunk
from dunline.exposure import server_tls_context
from dialer.simulate.pstn import PstnSimulator
from tests.conftest import require
from tests.dunline.test_https import self_signed
from tests.integration.peers import Baresip, free_port
from tests.integration.test_phones import AGENT_SPEECH, GREETING, bridge_one_debtor, pstn, until  # noqa: F401
from tests.sound import similarity

SRTP_TAG = 10


class TlsBaresip(Baresip):
    """The agents' baresip, its account over TLS (trusting our certificate) with mandatory SDES-SRTP."""

    def __init__(self, folder: Path, user: str, password: str, registrar: tuple[str, int], speech: np.ndarray,
                 ca: Path) -> None:
        super().__init__(folder, user, password, registrar, speech)
        config = folder / "config"
        config.write_text(config.read_text() + f"module srtp.so\nsip_cafile {ca}\n")
        (folder / "accounts").write_text(
            f"<sip:{user}@{registrar[0]}:{registrar[1]};transport=tls>;auth_user={user};auth_pass={password};"
            "answermode=auto;audio_codecs=PCMU,PCMA;regint=600;medianat=;mwi=no;mediaenc=srtp-mand\n")


class WireTap:
    """Every UDP datagram this host receives, as (source port, destination port, payload): loopback traffic
    read with a raw socket, beside the sockets that carry it."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[int, int, bytes]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        self.sock.setblocking(False)
        asyncio.get_running_loop().add_reader(self.sock, self._read)

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65_535)
            except BlockingIOError:
                return
            header = (data[0] & 0x0F) * 4
            source, destination = struct.unpack_from("!HH", data, header)
            self.datagrams.append((source, destination, data[header + 8:]))

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.sock)
        self.sock.close()

    def on_port(self, port: int) -> list[bytes]:
        return [payload for source, destination, payload in self.datagrams if port in (source, destination)]


async def test_baresip_over_tls_gets_an_srtp_leg_and_the_wire_shows_no_g711(pstn: PstnSimulator,  # noqa: F811
                                                                            tmp_path: Path) -> None:
    require("baresip")
    try:
        tap = WireTap()
    except PermissionError:
        raise AssertionError("reading the wire needs CAP_NET_RAW (the tests run as root in CI)") from None
    cert, key = self_signed(tmp_path)
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=1.0), password_of={"agent1": "pw-1"}.get,
                        recordings=tmp_path / "recordings", tls=server_tls_context(cert, key),
                        tls_port=free_port(socket.SOCK_STREAM))
    await board.start()
    assert board.tls_ua is not None
    try:
        tls_address = (board.tls_ua.host, board.tls_ua.port)
        async with TlsBaresip(tmp_path / "baresip", "agent1", "pw-1", tls_address, AGENT_SPEECH, cert) as softphone:
            await until(lambda: board.registered("agent1") is not None, timeout=10,
                        message=lambda: "\n".join(softphone.lines[-30:]))
            target = board.registered("agent1")
            assert target is not None and target.transport == "TLS" and ";transport=tls" in target.uri.lower()
            assert target.peer in board.tls_ua.transport.connections  # its INVITE goes back on that connection
            agent = board.login("agent1")
            await asyncio.wait_for(agent.up.wait(), 10)
            assert agent.current is not None
            rtp = agent.current.media.leg
            assert rtp.srtp is not None
            sent: list[bytes] = []
            received: list[bytes] = []
            rtp.sent_listeners.append(lambda packet: sent.append(packet.to_bytes()))
            rtp.listeners.append(lambda packet: received.append(packet.to_bytes()))
            await bridge_one_debtor(board, "agent1")  # the debtor's recording holds the agent's voice (> 0.8)
            await board.logout("agent1")
            await softphone.quit()
            assert similarity(softphone.heard().astype(float), GREETING[800:12000].astype(float)) > 0.8
    finally:
        await board.close()
        tap.close()
    wire = tap.on_port(rtp.local[1])
    assert len(sent) > 100 and len(received) > 100 and len(wire) > 200
    assert rtp.stats.rejected == 0  # every packet baresip sent authenticated under its SDES key
    plain = {packet[12:] for packet in sent + received if len(packet) > 12 + 80}
    on_wire = {packet[12:-SRTP_TAG] for packet in wire}
    assert not plain & on_wire  # no G.711 payload in the clear, either way
    assert all(len(packet) == 12 + 160 + SRTP_TAG for packet in wire if len(packet) > 100)  # each with its tag
