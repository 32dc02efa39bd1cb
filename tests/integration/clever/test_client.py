"""The Clever client against the simulated Clever over loopback: paging, retry rules, errors, identity."""

from __future__ import annotations

import pytest

from gateway.clever.client import CleverClient, build_client
from gateway.clever.errors import (
    CleverBadResponse,
    CleverInvalidGrant,
    CleverNotFound,
    CleverRateLimited,
    CleverTokenRejected,
    CleverUnavailable,
    CleverWrongToken,
)
from gateway.http import HttpClient
from gateway.ops.metrics import Metrics
from gateway.settings import load_settings
from sandbox.clever import CleverSim
from tests.integration.clever.conftest import FakeClock
from tests.support.clever_sim import RunningClever, clever_settings


def _district(sim: CleverSim, students: int = 3) -> tuple[str, str, list[str]]:
    district = sim.add_district("Maple USD")
    school = sim.add_school(district)
    teacher = sim.add_user(district, first="Tess", last="Teach", email="tess@maple.org",
                           roles={"teacher": {"sis_id": "T1", "school": school}})
    kids = [sim.add_user(district, first=f"Kid{i}", last="Doe", roles={"student": {"sis_id": f"S{i}",
                                                                                     "school": school}})
            for i in range(students)]
    sim.add_section(district, school, "Math 5", teachers=[teacher], students=kids)
    return district, sim.token_for(district), kids


def _gets(sim: CleverSim, path: str) -> int:
    return sum(1 for r in sim.requests if r.method == "GET" and r.path == path)


def test_district_tokens_and_paged_lists(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    district, token, kids = _district(sim, students=4)
    listed = client.district_tokens()
    assert [(t.district_id, t.access_token) for t in listed] == [(district, token)]
    pages = list(client.users(token))
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert {u.id for p in pages for u in p.items} >= set(kids)
    assert _gets(sim, "/v3.1/users") == 3
    assert [d.name for d in client.districts(token)] == ["Maple USD"]
    if clever_on_fake_clock.spec.enabled:  # without Clever's specs nothing is checked (tests/support/clever_spec.py)
        assert clever_on_fake_clock.spec.checked >= 4


def test_429_waits_until_the_reset_instant(client: CleverClient, clever_on_fake_clock: RunningClever,
                                           fake_clock: FakeClock) -> None:
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim)
    sim.switches.rate_limited, sim.switches.rate_limit_reset_in = 2, 3.0
    assert len(client.districts(token)) == 1
    assert _gets(sim, "/v3.1/districts") == 3
    assert 3.0 <= sum(fake_clock.slept) <= 9.0


def test_the_real_window_is_respected(client: CleverClient, clever_on_fake_clock: RunningClever,
                                      fake_clock: FakeClock) -> None:
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim, students=5)
    sim.rate_limit, sim.rate_window = 2, 2.0
    assert sum(len(p.items) for p in client.users(token)) == 6
    assert any(r.path == "/v3.1/users" for r in sim.requests)
    assert sum(fake_clock.slept) > 0  # it waited for a new window instead of failing


def test_429_beyond_the_wait_cap_is_an_error(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim)
    sim.switches.rate_limited, sim.switches.rate_limit_reset_in = 1, 600.0
    with pytest.raises(CleverRateLimited) as caught:
        client.districts(token)
    assert caught.value.retry_after is not None and caught.value.retry_after > 500
    assert caught.value.code == "CLEVER_RATE_LIMITED"


def test_5xx_backs_off_and_retries(client: CleverClient, clever_on_fake_clock: RunningClever,
                                   fake_clock: FakeClock) -> None:
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim)
    sim.switches.failures = [502, 503]
    assert len(client.districts(token)) == 1
    assert _gets(sim, "/v3.1/districts") == 3
    assert len(fake_clock.slept) == 2


def test_408_is_retried_like_a_5xx(client: CleverClient, clever_on_fake_clock: RunningClever,
                                    fake_clock: FakeClock) -> None:
    """The one outbound rule (gateway.retry): a 408 is transient, as the writeback outbox always read it."""
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim)
    sim.switches.failures = [408]
    assert len(client.districts(token)) == 1
    assert _gets(sim, "/v3.1/districts") == 2
    assert len(fake_clock.slept) == 1


def test_5xx_that_persists_is_unavailable(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim)
    sim.switches.failures = [500] * 10
    with pytest.raises(CleverUnavailable) as caught:
        client.districts(token)
    assert caught.value.clever_status == 500
    assert _gets(sim, "/v3.1/districts") == 5  # the first try and four retries


def test_401_is_never_retried(client: CleverClient, clever_on_fake_clock: RunningClever,
                              fake_clock: FakeClock) -> None:
    sim = clever_on_fake_clock.sim
    district, token, _ = _district(sim)
    sim.revoke_district(district)
    with pytest.raises(CleverTokenRejected):
        client.districts(token)
    assert _gets(sim, "/v3.1/districts") == 1
    assert fake_clock.slept == []


def test_html_body_is_a_wrong_token_error(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim)
    sim.switches.html = 1
    with pytest.raises(CleverWrongToken):
        client.districts(token)
    if clever_on_fake_clock.spec.enabled:
        assert clever_on_fake_clock.spec.skipped == 1


def test_no_answer_is_retried_then_unavailable(fake_clock: FakeClock) -> None:
    from tests.support.live import reserve_port

    url = f"http://127.0.0.1:{reserve_port()}"
    settings = load_settings(environ={}, clever_client_id="x", clever_client_secret="y",
                             clever_oauth_base_url=url, clever_api_base_url=url)
    http = HttpClient(Metrics(), timeout=2)
    try:
        with pytest.raises(CleverUnavailable):
            build_client(settings, http, clock=fake_clock.time, sleep=fake_clock.sleep).districts("t")
    finally:
        http.close()
    assert len(fake_clock.slept) == 4


def test_a_used_code_is_an_invalid_grant(client: CleverClient) -> None:
    with pytest.raises(CleverInvalidGrant) as caught:
        client.exchange_code("not-a-code")
    assert caught.value.code == "CLEVER_INVALID_GRANT"


def test_expired_event_cursor_is_not_found(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    _, token, _ = _district(sim)
    latest = client.latest_event(token)
    assert latest is not None and latest.type == "sections.created"
    assert next(iter(client.events(token, starting_after=latest.id))).items == ()
    sim.expire_events()
    with pytest.raises(CleverNotFound):
        list(client.events(token, starting_after=latest.id))


@pytest.mark.parametrize("authorized_by", ["district", "teacher"])
def test_identity_calls_with_a_login_token(client: CleverClient, clever_on_fake_clock: RunningClever,
                                           fake_clock: FakeClock, authorized_by: str) -> None:
    from sandbox.clever.state import CodeGrant

    sim = clever_on_fake_clock.sim
    district, _, kids = _district(sim, students=1)
    sim.redirect_uris.append(client.config.redirect_uri)
    sim.codes["c0de"] = CodeGrant(sim.client_id, client.config.redirect_uri, kids[0], authorized_by,
                                  fake_clock.time() + 60)
    grant = client.exchange_code("c0de")
    me = client.me(grant.access_token)
    assert (me.user_id, me.authorized_by) == (kids[0], authorized_by)
    assert me.district_id == (district if authorized_by == "district" else None)
    user = client.user(grant.access_token, me.user_id)
    assert user.role_names == ("student",)
    info = client.userinfo(grant.access_token)
    assert (info.sub, info.user_type, info.given_name) == (kids[0], "student", "Kid0")
    assert info.family_name == ("Doe" if authorized_by == "district" else "D")
    with pytest.raises(CleverInvalidGrant):
        client.exchange_code("c0de")  # single use
    with pytest.raises(CleverTokenRejected):
        list(client.users(grant.access_token))  # a login token cannot read the roster


def _client_with(clever: RunningClever, fake_clock: FakeClock,
                 **overrides: object) -> tuple[CleverClient, HttpClient]:
    settings = load_settings(environ={}, env="test", **clever_settings(clever, **overrides))
    http = HttpClient(Metrics(), timeout=5)
    return build_client(settings, http, clock=fake_clock.time, sleep=fake_clock.sleep), http


def test_basic_calls_do_not_count_against_the_per_token_limit(clever_on_fake_clock: RunningClever,
                                                              fake_clock: FakeClock) -> None:
    """Clever limits bearer tokens; logins (code exchanges) and token lists must never queue behind a window."""
    _district(clever_on_fake_clock.sim)
    client, http = _client_with(clever_on_fake_clock, fake_clock, clever_rate_limit_per_minute=2)
    try:
        for _ in range(3):
            assert len(client.district_tokens()) == 1
            with pytest.raises(CleverInvalidGrant):
                client.exchange_code("not-a-code")
    finally:
        http.close()
    assert fake_clock.slept == []


def test_a_429_on_the_code_exchange_is_never_waited_out(clever_on_fake_clock: RunningClever,
                                                       fake_clock: FakeClock) -> None:
    """A code is single-use (issue 12 #3): even a short 429 ends the exchange, with no wait and no second POST."""
    sim = clever_on_fake_clock.sim
    # The production default: background calls may wait 90 s for Clever's window.
    client, http = _client_with(clever_on_fake_clock, fake_clock, clever_max_rate_limit_wait_seconds=90.0)
    sim.switches.prefix, sim.switches.method = "/oauth/tokens", "POST"
    try:
        sim.switches.rate_limited, sim.switches.rate_limit_reset_in = 1, 2.0
        with pytest.raises(CleverRateLimited) as caught:
            client.exchange_code("not-a-code")
    finally:
        http.close()
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert fake_clock.slept == []
    assert sim.token_exchanges() == 1


def test_background_calls_still_wait_out_a_long_429(client: CleverClient, clever_on_fake_clock: RunningClever,
                                                    fake_clock: FakeClock) -> None:
    sim = clever_on_fake_clock.sim
    _district(sim)
    sim.switches.prefix, sim.switches.method = "/oauth/tokens", "GET"
    sim.switches.rate_limited, sim.switches.rate_limit_reset_in = 1, 4.0  # the test settings cap waits at 5 s
    assert len(client.district_tokens()) == 1
    assert sum(fake_clock.slept) >= 3.0


@pytest.mark.parametrize("body", [{"data": None}, {"data": {}}, {"links": []}, {"data": "[]"}, []])
def test_a_token_list_without_a_data_list_is_a_bad_response(client: CleverClient,
                                                            clever_on_fake_clock: RunningClever,
                                                            body: object) -> None:
    sim = clever_on_fake_clock.sim
    _district(sim)
    sim.switches.prefix, sim.switches.bodies = "/oauth/tokens", [body]
    with pytest.raises(CleverBadResponse):
        client.district_tokens()

