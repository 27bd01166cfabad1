"""`dunline node drain|status|resume` on an installation's case store: the request is recorded and audited, and
drain says which campaigns the node still runs until its runners' leases are gone."""

from pathlib import Path

from sqlalchemy import select

from campaigns.lease import CampaignLease
from cases import Store
from cases.models import AuditEntry, Campaign
from tests.cases.test_payments_cli import env, run  # noqa: F401  (env: an installation's fixture)

NODE_OWNER = "another-host:4242:node=n1"  # a runner of node n1 on another machine: alive while its lease is


def test_drain_status_and_resume_a_node(env: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    assert run("campaign", "create", "c1", "--dpd", "31-60")[0] == 0
    store = Store(f"sqlite:///{env / 'var' / 'dunline.db'}")
    try:
        with store.session() as session:
            campaign = session.scalars(select(Campaign.id)).one()
        lease = CampaignLease(store, campaign, NODE_OWNER)
        assert lease.try_acquire() is None  # node n1 runs the campaign
        code, out = run("node", "status", "n1")
        assert code == 0 and "taking campaigns" in out and f"running there: {campaign}" in out, out
        code, out = run("node", "drain", "n1")
        assert code == 0 and "asked to drain" in out and f"campaign(s) {campaign}" in out, out
        code, out = run("node", "drain", "n1", "--wait", "0.6")  # its calls are still up: not drained in time
        assert code == 1 and "still runs" in out, out
        lease.release()  # its runner ended once its calls did
        code, out = run("node", "drain", "n1", "--wait", "5")
        assert code == 0 and "n1 drained" in out, out
        assert "draining; campaigns running there: none" in run("node", "status", "n1")[1]
        assert run("node", "resume", "n1")[1].strip() == "node n1 resumed"
        assert run("node", "resume", "n1")[1].strip() == "node n1 was not draining"
        assert "taking campaigns" in run("node", "status", "n1")[1]
        with store.session() as session:
            audited = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "node")).all()
        assert audited == ["node.drain", "node.resume"]  # one request, however often it is repeated
    finally:
        store.dispose()
