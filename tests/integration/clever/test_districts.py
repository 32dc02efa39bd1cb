"""Token discovery against a misbehaving token list: a bad answer changes nothing, and an empty one disconnects
only the districts whose tokens Clever really stopped accepting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.clever.errors import CleverBadResponse
from gateway.store.models.core import AuditEntryRow
from tests.support.clever_roster import SeededDistrict, api_get, connect_and_sync, job, seed_district
from tests.support.clever_sim import RunningClever
from tests.support.gateway import GatewayUnderTest


def _two_districts(gw: GatewayUnderTest, clever: RunningClever) -> tuple[SeededDistrict, SeededDistrict]:
    first = seed_district(clever.sim, students=1, name="Elm SD")
    second = seed_district(clever.sim, students=1, name="Fir SD")
    connect_and_sync(gw)
    return first, second


def _statuses(gw: GatewayUnderTest) -> dict[str, str]:
    return {d["id"]: d["status"] for d in api_get(gw, "/districts")["data"]}


def _list_answers(clever: RunningClever, *bodies: object) -> None:
    switches = clever.sim.switches
    switches.prefix, switches.method, switches.bodies = "/oauth/tokens", "GET", list(bodies)


@pytest.mark.parametrize("body", [{"data": None, "links": []}, {"links": []}, {"data": {}}])
def test_a_token_list_without_a_data_list_changes_nothing(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                                          body: object) -> None:
    first, second = _two_districts(clever_gateway, clever)
    _list_answers(clever, body)
    with pytest.raises(CleverBadResponse):
        clever_gateway.services.clever.tokens.sync()
    _list_answers(clever, body)
    job(clever_gateway, "clever.district_tokens").run()  # the worker logs it and carries on
    assert _statuses(clever_gateway) == {first.district: "connected", second.district: "connected"}
    assert len(api_get(clever_gateway, f"/districts/{first.district}/sections")["data"]) == 1


def test_an_empty_token_list_keeps_districts_whose_tokens_still_work(clever_gateway: GatewayUnderTest,
                                                                     clever: RunningClever) -> None:
    first, second = _two_districts(clever_gateway, clever)
    clever.sim.revoke_district(second.district)  # really gone: its token is rejected
    _list_answers(clever, {"data": [], "links": []})  # and the list, wrongly, names no district at all
    result = clever_gateway.services.clever.tokens.sync()
    assert (result.held, result.disconnected) == ([first.district], [second.district])
    assert _statuses(clever_gateway) == {first.district: "connected", second.district: "disconnected"}
    assert len(api_get(clever_gateway, f"/districts/{first.district}/sections")["data"]) == 1
    assert api_get(clever_gateway, f"/districts/{second.district}/sections")["data"] == []
    with clever_gateway.services.db.transaction() as s:
        actions = [(a.action, a.target) for a in s.scalars(select(AuditEntryRow))]
    assert ("clever.district.disconnect_held", f"clever_district:{first.district}") in actions
    registry = clever_gateway.services.metrics.registry
    assert registry.get_sample_value("gateway_clever_district_changes_total", {"change": "held"}) == 1
    # The next, true listing changes nothing more.
    assert clever_gateway.services.clever.tokens.sync().unchanged == [first.district]


def test_an_empty_token_list_after_every_district_left_disconnects_them(clever_gateway: GatewayUnderTest,
                                                                        clever: RunningClever) -> None:
    first, second = _two_districts(clever_gateway, clever)
    clever.sim.revoke_district(first.district)
    clever.sim.revoke_district(second.district)
    result = clever_gateway.services.clever.tokens.sync()
    assert (result.held, sorted(result.disconnected)) == ([], sorted([first.district, second.district]))
    assert set(_statuses(clever_gateway).values()) == {"disconnected"}
