"""Why a campaign cannot be created or moved as asked. Each error carries a stable `error_id`, the HTTP
status the API answers with, and `details` (machine-readable: the field, the state, the counts), so the
console maps them without reading their text and the CLI prints the message:

    CampaignError           (base)
    ├── InvalidCampaign     400 bad_campaign          a field out of bounds; details: field
    │   ├── UnknownIvrFlow        400 unknown_ivr_flow      details: field, flow, known
    │   └── UnknownJurisdiction   400 unknown_jurisdiction  details: field, unknown, known
    ├── NoSuchCampaign      404 no_campaign           details: campaign (the id or name asked for)
    ├── NoSuchTask          404 no_task               an agent's task missing, or on another's queue
    ├── CampaignExists      409 campaign_exists       details: name
    ├── BadTransition       409 bad_transition        details: action, state (the campaign's)
    └── EmptySegment        409 empty_segment         a start with nothing to dial; details: segment_cases,
                                                      dialable_cases

An empty segment is 409 (the request is sound; the case store's present state refuses it, and an import
may change that), not 422. A campaign may be created over an empty segment (it can be prepared before the
import); only its start refuses.
"""

from __future__ import annotations

from typing import Any


class CampaignError(ValueError):
    status = 400
    error_id = "bad_campaign"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidCampaign(CampaignError):
    def __init__(self, field: str, message: str, **details: Any) -> None:
        super().__init__(message, field=field, **details)


class UnknownIvrFlow(InvalidCampaign):
    error_id = "unknown_ivr_flow"

    def __init__(self, flow: str, known: list[str]) -> None:
        super().__init__("ivr_flow", f"unknown IVR flow {flow!r}; known flows: {', '.join(known)}", flow=flow,
                         known=known)


class UnknownJurisdiction(InvalidCampaign):
    error_id = "unknown_jurisdiction"

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        super().__init__("segment.jurisdictions", f"no rule pack for jurisdiction(s) {', '.join(unknown)}; "
                         f"known: {', '.join(known)}", unknown=unknown, known=known)


class NoSuchCampaign(CampaignError):
    status = 404
    error_id = "no_campaign"

    def __init__(self, reference: str | int) -> None:
        super().__init__(f"no campaign {reference!r}", campaign=str(reference))


class CampaignExists(CampaignError):
    status = 409
    error_id = "campaign_exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"campaign {name!r} exists", name=name)


class BadTransition(CampaignError):
    status = 409
    error_id = "bad_transition"

    def __init__(self, name: str, action: str, status: str) -> None:
        super().__init__(f"cannot {action} campaign {name!r}: it is {status}", action=action, state=status)


class EmptySegment(CampaignError):
    status = 409
    error_id = "empty_segment"

    def __init__(self, name: str, segment_cases: int) -> None:
        why = (f"its segment holds {segment_cases} case(s), none with an active phone" if segment_cases
               else "its segment holds no case")
        super().__init__(f"cannot start campaign {name!r}: {why}; widen the segment (days past due, balance, "
                         f"jurisdictions) or import cases first", segment_cases=segment_cases, dialable_cases=0)


class NoSuchTask(CampaignError):
    status = 404
    error_id = "no_task"
