"""The campaign API refuses bodies and parameters it cannot store safely (issue 14, probe item 15)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from cases import Store
from tests.campaigns.test_campaigns import seed

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


async def test_item_8_campaign_refusals_leave_with_their_error_id_status_and_details(store: Store,
                                                                                     api: TestClient) -> None:
    """Each refusal of campaigns.errors keeps its own id and status through the API (was: every create refusal
    `bad_campaign`, every unknown name on an action told from the message's first words)."""
    seed(store)  # at the API's clock, one case (44 days past due) lies in GOOD's segment
    assert (await api.post("/api/campaigns", json=GOOD)).status == 201
    for body, status, error_id, details in (
            (GOOD, 409, "campaign_exists", {"name": "late"}),
            ({**GOOD, "name": "f", "ivr_flow": "colections"}, 400, "unknown_ivr_flow", {"field": "ivr_flow"}),
            ({**GOOD, "name": "j", "segment": {"jurisdictions": ["XX"]}}, 400, "unknown_jurisdiction",
             {"field": "segment.jurisdictions", "unknown": ["XX"]}),
            ({**GOOD, "name": "s", "schedule": {"start": "20:00", "end": "09:00"}}, 400, "bad_campaign",
             {"field": "schedule"}),
            ({**GOOD, "name": "g", "agent_group": None}, 400, "bad_campaign", {"field": "agent_group"})):
        refused = await _error(await api.post("/api/campaigns", json=body), status, error_id)
        assert details.items() <= refused["details"].items(), refused
    for method, path in (("GET", "/api/campaigns/nobody"), ("POST", "/api/campaigns/nobody/start")):
        missing = await _error(await api.request(method, path), 404, "no_campaign")
        assert missing["details"] == {"campaign": "nobody"}
    nobody = {**GOOD, "name": "empty", "segment": {"dpd": ["180+"]}}
    assert (await api.post("/api/campaigns", json=nobody)).status == 201  # created: an import may still fill it
    empty = await _error(await api.post("/api/campaigns/empty/start"), 409, "empty_segment")
    assert empty["details"] == {"segment_cases": 0, "dialable_cases": 0} and "widen" in empty["message"]
    assert (await api.post("/api/campaigns/late/start")).status == 200
    assert (await api.post("/api/campaigns/late/finish")).status == 200
    moved = await _error(await api.post("/api/campaigns/late/start"), 409, "bad_transition")
    assert moved["details"] == {"action": "start", "state": "finished"}


def test_item_8_the_openapi_document_names_every_campaign_error_id_with_its_status() -> None:
    import yaml

    from campaigns import errors
    from console.app import OPENAPI

    document = yaml.safe_load(OPENAPI.read_text())
    responses = document["components"]["responses"]
    routes = [operation["responses"] for path, item in document["paths"].items()
              if path.startswith(("/api/campaigns", "/api/tasks")) for operation in item.values()]
    kinds = [kind for kind in vars(errors).values()
             if isinstance(kind, type) and issubclass(kind, errors.CampaignError) and kind is not errors.CampaignError]
    for kind in kinds:
        described = [responses[answer["$ref"].rsplit("/", 1)[1]]["description"] for route in routes
                     for status, answer in route.items() if status == str(kind.status)]
        assert any(kind.error_id in text for text in described), (kind.__name__, kind.status, kind.error_id)
