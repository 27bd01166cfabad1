"""Reading a dial receipt back as text: `dunline why ATTEMPT_ID`."""

from __future__ import annotations

from typing import Any


def explain(receipt: dict[str, Any]) -> list[str]:
    """Lines a person can read: verdict, pack, each check with what it saw."""
    if not receipt:
        return ["no receipt stored for this attempt"]
    pack = receipt.get("pack") or {}
    subject = receipt.get("subject", {})
    lines = [
        f"verdict: {receipt.get('verdict', '?').upper()} at {receipt.get('evaluated_at')}",
        f"rule pack: {pack.get('name', '-')} version {pack.get('version', '-')} ({pack.get('title', '')})",
        f"call: account {subject.get('account_id')} number {subject.get('number')} ({subject.get('owner')}) "
        f"campaign {subject.get('campaign_id')} automated={subject.get('automated')}" if "channel" not in subject else
        f"{subject['channel']} message: account {subject.get('account_id')} to "
        f"{subject.get('address') or subject.get('number')} campaign {subject.get('campaign_id')}",
    ]
    if receipt.get("error"):
        lines.append(f"refused because the decision could not be made: {receipt['error']}")
    for check in receipt.get("checks", []):
        mark = "ok  " if check["passed"] else "FAIL"
        seen = ", ".join(f"{k}={_plain(v)}" for k, v in check.get("saw", {}).items())
        lines.append(f"  [{mark}] {check['rule']}: {seen}")
        if check.get("reason"):
            lines.append(f"         -> {check['reason']}")
    if receipt.get("next_allowed_at"):
        lines.append(f"earliest lawful retry: {receipt['next_allowed_at']}")
    return lines


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)
