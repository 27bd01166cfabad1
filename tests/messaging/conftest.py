"""The peers the messaging tests talk to: Debian's Net::SMPP as the SMSC (tests/peers/smsc.pl), aiosmtpd as the
mail server; and a case to message."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from cases import Store
from cases.models import Account, Address, Debtor, Phone, PhoneKind, Product

SMSC_SCRIPT = Path(__file__).parents[1] / "peers" / "smsc.pl"
SYSTEM_ID, PASSWORD = "dunline", "smpp8pwd"  # SMPP 3.4: a password is at most 8 characters


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Smsc:
    port: int
    spool: Path

    def submitted(self) -> list[dict]:  # type: ignore[type-arg]
        path = self.spool / "submitted.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def reply(self, source: str, destination: str, text: str) -> None:
        """Have a handset send a message to us (a mobile-originated deliver_sm)."""
        staging = self.spool / "reply.tmp"
        staging.write_text(f"{source}\t{destination}\t{text}", encoding="utf-8")
        staging.rename(self.spool / f"mo-{time.monotonic_ns()}.txt")


def start_smsc(spool: Path, *, quiet: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    if subprocess.run(["perl", "-MNet::SMPP", "-e1"], capture_output=True).returncode != 0:
        pytest.fail("the SMSC peer needs Debian's libnet-smpp-perl: run `make install` as root "
                    "(deploy/apt-packages.txt)")
    port = free_port()
    process = subprocess.Popen(["perl", str(SMSC_SCRIPT), str(port), SYSTEM_ID, PASSWORD, str(spool),
                                *(["--quiet"] if quiet else [])], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().startswith(b"listening")
    return process, port


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[Smsc]:
    spool = tmp_path / "smsc"
    spool.mkdir()
    process, port = start_smsc(spool)
    yield Smsc(port, spool)
    process.terminate()
    process.wait(timeout=5)


def seed_case(store: Store, *, jurisdiction: str = "CN", email: str | None = "wang.wei@example.cn",
              mobile: str = "+8613812345678", language: str = "zh") -> tuple[int, int]:
    """A debtor in Shanghai's zone with one mobile and one account; returns (account id, phone id)."""
    with store.session() as session:
        debtor = Debtor(external_ref=f"D-{mobile}", full_name="王伟", email=email, language=language)
        debtor.addresses.append(Address(region="上海", country="CN", timezone="Asia/Shanghai"))
        debtor.phones.append(Phone(e164=mobile, kind=PhoneKind.MOBILE, consent_automated=True))
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A-{mobile}",
                          product=Product.CREDIT_CARD, currency="CNY", principal=Decimal(5000),
                          balance=Decimal("3250.50"), overdue_amount=Decimal(800), jurisdiction=jurisdiction)
        session.add(account)
        session.flush()
        return account.id, debtor.phones[0].id
