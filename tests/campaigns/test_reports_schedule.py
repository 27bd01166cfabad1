"""The daily report jobs of `dunline serve`: due from their local time, once per local day across restarts,
tried again after a failure; the summary mailed to an aiosmtpd inbox and the snapshot written, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from campaigns.reports.schedule import DailyJob, run_daily_jobs, run_due
from cases import Store
from cases.models import DailyJobRun, DpdSnapshot, Payment, PaymentChannel
from dunline.daily_reports import daily_jobs
from dunline.settings import Settings
from tests.campaigns.assignment_seed import add_case
from tests.messaging.test_email import Inbox, inbox  # noqa: F401 (fixture)

BEIJING = ZoneInfo("Asia/Shanghai")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


async def test_a_job_runs_once_a_local_day_from_its_time(store: Store) -> None:
    runs: list[date] = []

    async def record(day: date) -> None:
        runs.append(day)

    job = DailyJob("count", time(7, 30), record)
    assert await run_due(store, [job], utc(2, 23, 29), BEIJING) == []  # 07:29 on the 3rd in Beijing
    assert await run_due(store, [job], utc(2, 23, 30), BEIJING) == ["count"]
    assert await run_due(store, [job], utc(3, 9), BEIJING) == []  # later that day, or after a restart
    assert await run_due(store, [job], utc(3, 23, 45), BEIJING) == ["count"]  # 07:45 on the 4th
    assert runs == [date(2026, 11, 3), date(2026, 11, 4)]


async def test_a_failed_job_is_given_back_and_tried_again(store: Store) -> None:
    tries: list[date] = []

    async def flaky(day: date) -> None:
        tries.append(day)
        if len(tries) == 1:
            raise OSError("mail server away")

    job = DailyJob("flaky", time(0), flaky)
    assert await run_due(store, [job], utc(3, 1), BEIJING) == []
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DailyJobRun)) == 0
    assert await run_due(store, [job], utc(3, 2), BEIJING) == ["flaky"]
    assert await run_due(store, [job], utc(3, 3), BEIJING) == []
    assert tries == [date(2026, 11, 3), date(2026, 11, 3)]


async def test_serve_takes_the_snapshot_and_mails_the_summary_once(store: Store, tmp_path: Path,
                                                                   inbox: tuple[Inbox, int]) -> None:  # noqa: F811
    handler, port = inbox
    account = add_case(store, "J-1", dpd=10)
    with store.session() as session:
        session.add(Payment(account_id=account, amount=Decimal("66.60"), paid_on=date(2026, 11, 2),
                            channel=PaymentChannel.CARD, external_ref="j1"))
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, report_daily_at=time(8),
                        report_daily_to=["boss@acme.example"], default_timezone="Asia/Shanghai")
    jobs = daily_jobs(settings, store)
    assert await run_due(store, jobs, utc(2, 16, 30), BEIJING) == ["dpd-snapshot"]  # 00:30 on the 3rd
    assert handler.messages == []
    stop = asyncio.Event()

    async def stop_when_mailed() -> None:
        while not handler.messages:
            await asyncio.sleep(0.01)
        stop.set()

    await asyncio.wait_for(asyncio.gather(  # 08:00 on the 3rd, ticking until the summary is out
run_daily_jobs(store, jobs, stop, clock=lambda: utc(3, 0), zone=BEIJING,
                                                         every_s=0.01), stop_when_mailed()), 10)
    assert await run_due(store, daily_jobs(settings, store), utc(3, 0, 3), BEIJING) == []  # restarted: done
    assert len(handler.messages) == 1
    message = email.message_from_bytes(handler.messages[0][2], policy=email.policy.default)
    assert message["Subject"] == "催收日报 Daily summary 2026-11-02"
    assert "Collected: 66.60 (1 笔 payments)" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with store.engine.connect() as connection:
        assert connection.execute(select(DpdSnapshot.day, DpdSnapshot.dpd_bucket)).all() == [
            (date(2026, 11, 3), "current")]  # due 11-18: not yet overdue on the 3rd


def test_no_summary_without_its_settings(store: Store, tmp_path: Path) -> None:
    names = [job.name for job in daily_jobs(Settings(data_dir=tmp_path, report_daily_at=time(8),
                                                     report_daily_to=["boss@acme.example"]), store)]
    assert names == ["dpd-snapshot"]  # no smtp_host
    assert [job.name for job in daily_jobs(Settings(data_dir=tmp_path, smtp_host="127.0.0.1"), store)] == [
        "dpd-snapshot"]
