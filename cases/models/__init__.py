"""The case store's tables. Importing this package registers every table on `Base.metadata`."""

from cases.models.account import Account, AccountStatus, Product
from cases.models.agent_log import AgentStateHour, AgentStateSpan
from cases.models.assignment import AgentProfile, CaseAssignment, Team
from cases.models.audit import AuditEntry, ImportRun
from cases.models.base import Base, utcnow
from cases.models.campaign import AgentSeat, Campaign, CampaignStatus, NodeDrain, RunnerLease
from cases.models.column_key import ColumnKey
from cases.models.contact import AfterCallState, Attempt, AttemptOutcome, Channel, MessagePart, Note
from cases.models.daily_jobs import DailyJobRun
from cases.models.holds import Hold, HoldKind
from cases.models.money import (
    Installment,
    InstallmentStatus,
    Payment,
    PaymentChannel,
    PlanStatus,
    Promise,
    PromiseStatus,
    RepaymentPlan,
    Source,
)
from cases.models.party import (
    Address,
    AddressKind,
    Debtor,
    Language,
    Phone,
    PhoneKind,
    PhoneOwner,
    PhoneStatus,
)
from cases.models.payments import LineStatus, StatementLineRow  # noqa: F401
from cases.models.reminders import ReminderSent, ReminderStatus
from cases.models.reports import REPORT_INDEXES  # noqa: F401 (indexes join their tables)
from cases.models.retention import RETENTION_INDEXES, DestructionLog  # noqa: F401 (indexes join their tables)
from cases.models.screening import Decision, FindingStatus, ScreeningFinding, ScreeningReview
from cases.models.snapshots import DpdSnapshot
from cases.models.tasks import AgentTask, TaskStatus
from cases.models.templates import MessageTemplate
from cases.models.tokens import ApiToken
from cases.models.users import ROLES_SEEING_PERSONAL_DATA, Role, User
from cases.models.verification import VerificationFailure, VerificationSubject

__all__ = [
    "ReminderSent", "ReminderStatus", "AgentTask", "TaskStatus",
    "AgentStateHour", "AgentStateSpan", "DailyJobRun", "DpdSnapshot",
    "AgentProfile", "CaseAssignment", "MessageTemplate", "Team",
    "AfterCallState", "AgentSeat", "ApiToken", "Campaign", "CampaignStatus", "ColumnKey", "NodeDrain", "RunnerLease",
    "Decision", "DestructionLog", "FindingStatus", "ScreeningFinding", "ScreeningReview",
    "Account", "AccountStatus", "Address", "AddressKind", "Attempt", "AttemptOutcome", "AuditEntry",
    "Base", "Channel", "Debtor", "Hold", "HoldKind", "ImportRun", "Installment", "InstallmentStatus", "Language", "MessagePart", "Note", "Payment",
    "PaymentChannel", "Phone", "PhoneKind", "PhoneOwner", "PhoneStatus", "PlanStatus", "Product",
    "Promise", "PromiseStatus", "ROLES_SEEING_PERSONAL_DATA", "RepaymentPlan", "Role", "Source", "User",
    "VerificationFailure", "VerificationSubject", "utcnow",
]
