"""Reminders for N accounts planned, gated and submitted to a local SMSC, end to end.

Imports N generated cases (a Chinese creditor's book by default), then sends each account a reminder SMS from a
template through `campaigns.messages.MessageService`: batches of 500 screened (the template once), gated with the
accounts locked and written as queued attempts with their receipts, handed to the SMPP transceiver (aiosmpplib)
bound to Debian's Net::SMPP SMSC (tests/peers/smsc.pl, quiet), whose submit responses and delivery receipts move
each attempt to delivered. The clock stops when every allowed message's attempt is delivered (or failed).
Goal: >= 500 messages/s end to end on the 2-core machine.

    python bench/messaging.py [--accounts 100000] [--json] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from campaigns import attempts as attempt_rows  # noqa: E402
from campaigns.messages import MessageService, Order  # noqa: E402
from cases import Store, migrate  # noqa: E402
from cases.demo_data import generate_cases, write_csv  # noqa: E402
from cases.importer import CaseImporter  # noqa: E402
from cases.models import Account, Attempt, Channel  # noqa: E402
from compliance.gate import ComplianceGate  # noqa: E402
from compliance.screening import Screener  # noqa: E402
from messaging.smpp import SmppConfig, SmppEvents, SmsChannel  # noqa: E402

BATCH = 500
AT = datetime(2026, 3, 2, 4, 0, tzinfo=timezone.utc)  # 12:00 in China: inside the SMS window
TEMPLATE = "{name}您好，您在本平台的账单已逾期，欠款{amount}元，请尽快还款，以免影响您的信用记录。回复TD退订"
SMSC = Path(__file__).resolve().parents[1] / "tests" / "peers" / "smsc.pl"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Timed:
    """Wraps the claim (gate + attempt rows) to count its time: the gate's share of the run."""

    def __init__(self) -> None:
        self.seconds, self.decisions = 0.0, 0
        self.inner = attempt_rows.claim_messages

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            result = self.inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
        self.decisions += len(result)
        return result


async def run(store: Store, port: int, account_ids: list[int]) -> dict[str, float]:
    import campaigns.messages as messages_module

    timed = Timed()
    messages_module.claim_messages = timed  # type: ignore[assignment]  # measure the claims in place
    holder: list[MessageService] = []
    channel = SmsChannel(SmppConfig("127.0.0.1", port, "bench", "bench", "10690000", window=5000), SmppEvents(
        submitted=lambda x: holder[0].on_submitted(x), receipt=lambda x: holder[0].on_receipt(x),
        reply=lambda x: holder[0].on_reply(x)))
    service = MessageService(store=store, gate=ComplianceGate(store), screener=Screener.load(), sms=channel,
                             clock=lambda: AT)
    holder.append(service)
    await channel.start()
    started = time.perf_counter()
    allowed = 0
    for i in range(0, len(account_ids), BATCH):
        sent = await service.send_many([Order(a, template=TEMPLATE) for a in account_ids[i:i + BATCH]],
                                       Channel.SMS, now=AT)
        allowed += sum(1 for s in sent if s.allowed)
    submitted_at = time.perf_counter() - started

    def settled() -> int:
        with store.reading() as session:
            return int(session.scalar(select(func.count()).select_from(Attempt).where(
                Attempt.channel == Channel.SMS, Attempt.delivery.in_(("delivered", "failed", "expired")))) or 0)

    while True:
        await service.flush()
        done = await asyncio.to_thread(settled)
        if done >= allowed:
            break
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    await channel.stop()
    return {"allowed": allowed, "elapsed": elapsed, "submitted_s": submitted_at, "gate_s": timed.seconds,
            "decisions": timed.decisions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--zh-share", type=float, default=1.0, help="share of Chinese cases (the rest US/UK)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dunline-messaging-"))
    store = Store(args.db or f"sqlite:///{work / 'messaging.db'}")
    migrate.upgrade(store.engine)
    data = work / "cases.csv"
    write_csv(data, generate_cases(args.accounts, seed=11, zh_share=args.zh_share))
    CaseImporter(store, actor="bench", default_region="CN").run(data)
    with store.reading() as session:
        account_ids = list(session.scalars(select(Account.id).order_by(Account.id)))
    spool = work / "smsc"
    spool.mkdir()
    port = free_port()
    smsc = subprocess.Popen(["perl", str(SMSC), str(port), "bench", "bench", str(spool), "--quiet"],
                            stdout=subprocess.PIPE)
    assert smsc.stdout is not None and smsc.stdout.readline().startswith(b"listening")
    try:
        figures = asyncio.run(run(store, port, account_ids))
    finally:
        smsc.terminate()
        smsc.wait(timeout=10)
    result = {"messages": int(figures["allowed"]), "accounts": len(account_ids),
              "msgs_per_s": round(figures["allowed"] / figures["elapsed"], 1),
              "gate_decisions_per_s": round(figures["decisions"] / figures["gate_s"], 1),
              "seconds": round(figures["elapsed"], 1), "submitted_after_s": round(figures["submitted_s"], 1),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "backend": store.backend}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['messages']} of {result['accounts']} reminders gated, submitted and delivered in "
              f"{result['seconds']} s = {result['msgs_per_s']} messages/s end to end (goal >= 500) on "
              f"{result['backend']}; gate decisions with their rows {result['gate_decisions_per_s']}/s; "
              f"peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
