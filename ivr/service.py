"""The IVR as the switchboard uses it: run the collection flow on an answered or inbound call, and log
the run (path, masked inputs, duration, outcome) to the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from cases import Store
from cases.audit import record
from cases.models import Account, utcnow
from dialer.leg import CallLeg
from ivr.actions import CampaignTerms, collection_actions, in_store
from ivr.call_channel import CallChannel, Listener, PromptAudio, Transfer
from ivr.flow import DEFAULT_FLOW, Flow, load_flow
from ivr.runtime import FlowRunner, RunLog, check_actions

DEFAULT_LANGUAGE = "zh"  # inbound callers, and accounts no longer on file


class IvrService:
    def __init__(self, store: Store, prompt_audio: PromptAudio, *, flow: Flow | None = None,
                 terms: CampaignTerms = CampaignTerms(), listener: Listener | None = None,
                 messages: Path | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.prompt_audio, self.listener, self.messages = store, prompt_audio, listener, messages
        self.actions = collection_actions(store, terms, clock=clock)
        self.flow = flow or load_flow(DEFAULT_FLOW, self.actions)
        check_actions(self.flow, self.actions)

    async def handle(self, leg: CallLeg, *, hang_up: Callable[[], Awaitable[object]], caller: str = "",
                     account_id: int | None = None, transfer: Transfer | None = None) -> tuple[RunLog, CallChannel]:
        """Run the flow until it ends, the caller hangs up, or it transfers; `account_id` when we placed
        the call for a case (the caller still has to verify), `caller` (E.164) for inbound calls."""
        language = DEFAULT_LANGUAGE if account_id is None else \
            await in_store(self.store.session, partial(_language, account_id=account_id))
        channel = CallChannel(leg, self.prompt_audio, hang_up=hang_up, transfer=transfer, listener=self.listener,
                              messages=self.messages)
        variables = {"caller": caller, **({"account_id": account_id} if account_id is not None else {})}
        runner = FlowRunner(self.flow, channel, self.actions, language=language, variables=variables)
        log = await runner.run()
        await in_store(self.store.session, partial(
            record, actor="ivr", action="ivr.run", entity="account",
            entity_id=log.variables.get("account_id") if log.variables.get("verified") else None,
            details={"flow": log.flow, "path": list(log.path), "inputs": [list(i) for i in log.inputs],
                     "outcome": log.outcome, "seconds": round(log.seconds, 1), "call_id": leg.call.call_id}))
        return log, channel


def _language(session: Session, *, account_id: int) -> str:
    """The debtor's language, which the flow speaks first."""
    account = session.get(Account, account_id)
    return DEFAULT_LANGUAGE if account is None else account.debtor.language.value
