"""The campaign API refuses bodies and parameters it cannot store safely (issue 14, probe item 15)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

GOOD: dict[str, Any] = {"name": "late", "agent_group": "collectors", "segment": {"dpd": ["31-60"]}}


async def _error(response: Any, status: int, error_id: str) -> dict[str, Any]:
    body = await response.json()
    assert response.status == status and body["error_id"] == error_id, (response.status, body)
    return body  # type: ignore[no-any-return]


async def test_probe_15_deeply_nested_json_is_bad_json(api: TestClient) -> None:
    deep = '{"name": "x", "agent_group": "g", "segment": ' + "[" * 30_000 + "]" * 30_000 + "}"  # < 64 KiB
    body = await _error(await api.post("/api/campaigns", data=deep), 400, "bad_json")  # was: 500 RecursionError
    assert "deep" in body["message"]
    # Brackets inside strings are text, not nesting.
    quoted = await api.post("/api/campaigns", json={**GOOD, "name": "[" * 90})
    assert quoted.status == 201


async def test_probe_15_malformed_json_names_no_python_internals(api: TestClient) -> None:
    for raw in ('{"name": ', "[1, 2]", '"late"', "\xff\xfe".encode("latin-1"), '{"name": NaN}',
                '{"name": "x", "abandon_target": 1e999}', '{"name": 1' + "0" * 5000 + "}"):
        body = await _error(await api.post("/api/campaigns", data=raw), 400, "bad_json")
        for internal in ("Expecting", "char ", "list indices", "codec", "Traceback", "int_max_str_digits"):
            assert internal not in body["message"], body


async def test_probe_15_campaign_fields_are_length_limited(api: TestClient) -> None:
    await _error(await api.post("/api/campaigns", json={**GOOD, "name": "n" * 200_000}), 413, "body_too_large")
    too_long = await _error(await api.post("/api/campaigns", json={**GOOD, "name": "n" * 101}), 400, "bad_parameter")
    assert too_long["details"]["parameter"] == "name"
    for field, value in (("name", "a\x00b"), ("name", 7), ("agent_group", "g" * 65), ("caller_id", "1" * 33),
                         ("ivr_flow", "f" * 101), ("dial_mode", "telepathic"), ("abandon_target", "lots"),
                         ("abandon_target", 10**400), ("name", "a\ud800"),
                         ("segment", []), ("segment", {"dpd": "31-60"}), ("segment", {"min_balance": "sNaN"}),
                         ("segment", {"regions": ["r" * 65]}), ("segment", {"not_contacted_for_days": 10**30}),
                         ("segment", {"colour": ["red"]}), ("schedule", {"start": 9, "end": "20:00"}),
                         ("schedule", {"start": "09:00", "end": "20:00", "zone": "z" * 65}), ("shedule", {})):
        body = await _error(await api.post("/api/campaigns", json={**GOOD, field: value}), 400, "bad_parameter")
        assert body["details"]["parameter"].split(".")[0] == field, body
    # X-Dunline-User is no longer read (the actor is the token's owner), so no length of it is refused.
    user = await api.post("/api/campaigns", json=GOOD, headers={"X-Dunline-User": "u" * 61})
    assert user.status == 201
    longest = await api.post("/api/campaigns", json={**GOOD, "name": "名" * 100})
    assert longest.status == 201 and (await longest.json())["name"] == "名" * 100


async def test_probe_15_campaign_reference_is_bounded(api: TestClient) -> None:
    for reference in ("99999999999999999999", "²", "x" * 101):  # the first was: 500 (integer out of range)
        shown = await api.get(f"/api/campaigns/{reference}")
        assert shown.status in (400, 404) and "error_id" in await shown.json()
        moved = await api.post(f"/api/campaigns/{reference}/start")
        assert moved.status in (400, 404) and "error_id" in await moved.json()
