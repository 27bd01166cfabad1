"""Independent SIP peers as async context managers: baresip (agent softphone), kamailio (front proxy), SIPp
as a carrier, and the scripted pjsua2 / pyVoIP debtor phones in `phones/`. Each gets its own ports and folder."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
from pathlib import Path

import numpy as np

from audio.g711 import encode
from audio.wav import read_pcm, write_pcm
from dialer.sip.uac import UserAgent

ROOT = Path(__file__).resolve().parents[2]
PHONES = Path(__file__).parent / "phones"


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_range(size: int) -> int:
    """The first of `size` consecutive free UDP ports (RTP ranges for the phones)."""
    while True:
        first = free_port()
        if first + size < 65535 and all(_udp_free(first + n) for n in range(1, size)):
            return first


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def _wait_for_line(stream: asyncio.StreamReader, marker: str, timeout: float, seen: list[str]) -> bool:
    async def read() -> bool:
        while line := await stream.readline():
            seen.append(line.decode(errors="replace").rstrip())
            if marker in seen[-1]:
                return True
        return False
    try:
        return await asyncio.wait_for(read(), timeout)
    except asyncio.TimeoutError:
        return False


async def _drain(stream: asyncio.StreamReader, seen: list[str]) -> None:
    while line := await stream.readline():
        seen.append(line.decode(errors="replace").rstrip())


class Process:
    """A peer process whose output is kept (`lines`) and that is stopped on exit."""

    def __init__(self, *args: str, ready: str, cwd: Path | None = None, timeout: float = 10.0) -> None:
        self.args, self.ready, self.cwd, self.timeout = args, ready, cwd, timeout
        self.lines: list[str] = []

    async def __aenter__(self) -> Process:
        self.process = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, cwd=self.cwd)
        assert self.process.stdout is not None
        if not await _wait_for_line(self.process.stdout, self.ready, self.timeout, self.lines):
            await self.stop()
            raise RuntimeError(f"{self.args[0]} did not become ready:\n" + "\n".join(self.lines[-30:]))
        self._reader = asyncio.ensure_future(_drain(self.process.stdout, self.lines))
        return self

    async def wait(self, timeout: float) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.wait_for(self._reader, 2)
        return code

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 3)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def output(self) -> str:
        return "\n".join(self.lines[-40:])


class Baresip(Process):
    """baresip as an agent's softphone: registers `user` to `registrar`, auto-answers, speaks `speech`
    (looped into a long file: baresip hangs up when its source ends) and records what it hears."""

    def __init__(self, folder: Path, user: str, password: str, registrar: tuple[str, int], speech: np.ndarray,
                 codecs: str = "PCMU,PCMA") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.records = folder, folder / "rec"
        self.records.mkdir(exist_ok=True)
        self.ctrl_port, sip_port, rtp = free_port(socket.SOCK_STREAM), free_port(), free_port_range(40)
        write_pcm(folder / "speech.wav", np.tile(speech, int(120 * 8000 / len(speech)) + 1))
        (folder / "config").write_text("\n".join([
            "poll_method epoll", f"sip_listen 127.0.0.1:{sip_port}", "net_interface 127.0.0.1",
            f"audio_source aufile,{folder / 'speech.wav'}", "audio_player aubridge,nul", "audio_alert aubridge,nul",
            "ausrc_srate 8000", "auplay_srate 8000", "ausrc_channels 1", "auplay_channels 1",
            f"rtp_ports {rtp}-{rtp + 39}", "rtcp_mux no", "module_path /usr/lib/baresip/modules",
            "module g711.so", "module aufile.so", "module aubridge.so", "module sndfile.so", "module ctrl_tcp.so",
            "module_tmp account.so", f"snd_path {self.records}", f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}", ""]))
        (folder / "accounts").write_text(
            f"<sip:{user}@{registrar[0]}:{registrar[1]};transport=udp>;auth_user={user};auth_pass={password};"
            f"answermode=auto;audio_codecs={codecs};regint=600;medianat=;mwi=no\n")
        super().__init__("baresip", "-f", str(folder), ready="baresip is ready")

    async def quit(self) -> None:
        """Stop through its control port: it un-registers and exits at once."""
        _, writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
        message = json.dumps({"command": "quit"}).encode()
        writer.write(b"%d:%s," % (len(message), message))
        await writer.drain()
        writer.close()
        await asyncio.wait_for(self.process.wait(), 5)

    def heard(self) -> np.ndarray:
        """Everything baresip decoded from its calls, in order."""
        files = sorted(self.records.glob("*-dec.wav"))
        return np.concatenate([read_pcm(path) for path in files]) if files else np.zeros(0, np.int16)


class Kamailio(Process):
    """kamailio with Dunline's deploy config, on its own port and runtime folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        super().__init__("kamailio", "-f", str(ROOT / "deploy" / "kamailio" / "kamailio.cfg"), "-DD", "-E",
                         "-l", f"udp:127.0.0.1:{self.port}", "-Y", str(folder), "-P", str(folder / "kamailio.pid"),
                         "-w", str(folder), "-m", "32", "-M", "8", ready="INFO")

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    async def answering(self, ua: UserAgent, timeout: float = 10.0) -> bool:
        """Whether it answers OPTIONS within `timeout` (its workers start after it prints its first lines)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await ua.ping(self.address, timeout=0.3):
                return True
        return False


def rtpengine_command(ng_port: int, recordings: Path, ports: tuple[int, int] | None = None) -> list[str]:
    """rtpengine with Dunline's deploy configuration (deploy/rtpengine/rtpengine.conf) on 127.0.0.1, in user space
    (no kernel module here), logging to stderr, its pid file and pcap captures under `recordings` (which must
    exist); `ports`: a range of its own, else the configuration's."""
    return ["rtpengine", f"--config-file={ROOT / 'deploy' / 'rtpengine' / 'rtpengine.conf'}",
            "--config-section=dunline", "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{ng_port}",
            f"--listen-cli=127.0.0.1:{free_port(socket.SOCK_STREAM)}", "--foreground", "--table=-1",
            "--log-stderr", "--log-level=6", f"--recording-dir={recordings}",
            f"--pidfile={recordings / 'rtpengine.pid'}",
            *([f"--port-min={ports[0]}", f"--port-max={ports[1]}"] if ports else [])]


class Rtpengine(Process):
    """`rtpengine_command`'s rtpengine with a port range of its own, recording under `folder`."""

    def __init__(self, folder: Path, ports: int = 60) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.port, first = folder, free_port(), free_port_range(ports)
        super().__init__(*rtpengine_command(self.port, folder, (first, first + ports - 1)), ready="Startup complete")

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


class SippCarrier:
    """SIPp as the carrier behind a trunk: `scenario` (its text, already filled in) answers every call that comes,
    many at once, until the context ends. SIPp prints no line when it is ready, so it is given a moment."""

    def __init__(self, folder: Path, scenario: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.port, self.media_port = folder, free_port(), free_port_range(4)
        (folder / "scenario.xml").write_text(scenario)

    async def __aenter__(self) -> SippCarrier:
        self.process = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(self.folder / "scenario.xml"), "-i", "127.0.0.1", "-p", str(self.port), "-mi",
            "127.0.0.1", "-mp", str(self.media_port), "-nostdin", "-trace_err", "-error_file",
            str(self.folder / "errors.log"), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            cwd=self.folder)
        await asyncio.sleep(0.5)
        if self.process.returncode is not None:
            raise RuntimeError(f"sipp exited at once: {self.errors()}")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def errors(self) -> str:
        path = self.folder / "errors.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def write_rtp_pcap(path: Path, pcm: np.ndarray, payload_type: int = 0, rate: int = 8000) -> None:
    """`pcm` as a classic pcap of Ethernet/IPv4/UDP/RTP packets, 20 ms of G.711 each (μ-law for payload type 0,
    A-law for 8), for SIPp's `play_pcap_audio`, which sends them in the capture's own timing."""
    law, step = ("ulaw" if payload_type == 0 else "alaw"), rate // 50
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # header: LINKTYPE_ETHERNET
    for n, start in enumerate(range(0, len(pcm) - step + 1, step)):
        rtp = struct.pack("!BBHII", 0x80, payload_type, n, n * step, 0x5EED) + encode(pcm[start:start + step], law)
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                         bytes([127, 0, 0, 1])) + udp
        frame = b"\0" * 12 + b"\x08\x00" + ip
        micros = n * 20_000
        records.append(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(records))


def phone(script: str, *args: str) -> Process:
    """A scripted debtor phone from `phones/` (it prints READY when it can take a call)."""
    return Process(sys.executable, str(PHONES / script), *args, ready="READY", timeout=15)

