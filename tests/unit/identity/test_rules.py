"""Matching rules from registration options: defaults, wrong types, the Clever issuer, and validated changes."""

from __future__ import annotations

import pytest

from gateway.identity.rules import MatchRules, RuleInvalid, parse_changes


def test_defaults() -> None:
    assert MatchRules.from_options({}) == MatchRules(sis_id_matching=True, email_matching=False,
                                                     clever_login_linking=False, clever_id_from_sub=False)


def test_a_value_of_the_wrong_type_counts_as_absent() -> None:
    rules = MatchRules.from_options({"email_matching": "yes", "clever_id_param": 7, "sis_id_param": "  "})
    assert (rules.email_matching, rules.clever_id_param, rules.sis_id_param) == (False, None, None)


@pytest.mark.parametrize(("issuer", "from_sub"), [
    ("https://clever.com", True), ("https://lti.clever.com/x", True), ("https://notclever.com", False),
    ("https://canvas.instructure.com", False),
])
def test_clever_brokered_launches_take_sub_by_default(issuer: str, from_sub: bool) -> None:
    assert MatchRules.from_options({}, issuer).clever_id_from_sub is from_sub
    assert MatchRules.from_options({"clever_id_from_sub": False}, issuer).clever_id_from_sub is False


def test_changes_are_validated() -> None:
    assert parse_changes({"email_matching": True, "sis_id_param": " sis ", "clever_id_param": None}) == {
        "email_matching": True, "sis_id_param": "sis", "clever_id_param": None}
    for bad, key in (({"email": True}, "email"), ({"email_matching": "true"}, "email_matching"),
                     ({"sis_id_param": ""}, "sis_id_param")):
        with pytest.raises(RuleInvalid) as caught:
            parse_changes(bad)
        assert caught.value.key == key
