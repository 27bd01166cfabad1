"""The dialer: agents, pacing, the abandon ledger (and, as they arrive, SIP signalling and media).

Knows SIP, media, agents and pacing; not debts.
"""

from dialer.agents import AgentEvent, AgentPool, AgentState, AgentStateChanged, GroupSnapshot
from dialer.ledger import AbandonLedger, CallAbandoned

__all__ = ["AbandonLedger", "AgentEvent", "AgentPool", "AgentState", "AgentStateChanged", "CallAbandoned",
           "GroupSnapshot"]
