"""The strategies in order over a roster held in memory: each strategy, each refusal, and what stops the search."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from gateway.identity.resolver import UNMATCHED, LaunchFacts, Resolution, clean, resolve
from gateway.identity.rules import MatchRules


@dataclass
class Roster:
    """district -> Clever id -> (role -> SIS id, email)."""

    users: dict[str, dict[str, tuple[dict[str, str], str | None]]] = field(default_factory=dict)

    def district_of(self, clever_user_id: str) -> str | None:
        return next((d for d, users in self.users.items() if clever_user_id in users), None)

    def sis_holders(self, district_id: str, sis_id: str) -> list[tuple[str, str]]:
        return [(uid, role) for uid, (sis, _) in sorted(self.users.get(district_id, {}).items())
                for role, value in sis.items() if value == sis_id]

    def with_email(self, district_id: str, email: str) -> list[str]:
        return [uid for uid, (_, mail) in sorted(self.users.get(district_id, {}).items())
                if mail and mail.lower() == email.strip().lower()]


ROSTER = Roster({
    "d-1": {
        "c-ann": ({"student": "S-1"}, "ann@d1.org"),
        "c-bob": ({"student": "S-2"}, "shared@d1.org"),
        "c-cat": ({"student": "S-3"}, "shared@d1.org"),
        "c-dup1": ({"student": "S-9"}, None),
        "c-dup2": ({"student": "S-9"}, None),
        "c-teach": ({"teacher": "X-1"}, "teach@d1.org"),
        "c-pupil": ({"student": "X-1"}, None),
    },
    "d-2": {"c-far": ({"student": "S-7"}, "far@d2.org"), "c-ann2": ({"student": "S-1"}, "ann@d1.org")},
})
ALL = MatchRules(email_matching=True)


def _r(rules: MatchRules = ALL, **facts: object) -> Resolution:
    return resolve(LaunchFacts(**{"district_id": "d-1", **facts}), rules, ROSTER)  # type: ignore[arg-type]


@pytest.mark.parametrize(("facts", "result", "clever"), [
    ({"linked_clever_user_id": "c-any", "sis_id": "S-2"}, "existing", "c-any"),
    ({"clever_id_claim": "c-bob", "sis_id": "S-1"}, "launch_claim", "c-bob"),
    ({"sis_id": "S-1", "email": "shared@d1.org"}, "sis_id", "c-ann"),
    ({"sis_id": 1234}, UNMATCHED, None),
    ({"email": " ANN@d1.org "}, "email", "c-ann"),
    ({"sis_id": "X-1", "learner": True}, "sis_id", "c-pupil"),
    ({"sis_id": "X-1", "instructor": True}, "sis_id", "c-teach"),
    ({"sis_id": "S-7"}, UNMATCHED, None),  # another district's SIS id
    ({"clever_id_claim": "c-nobody", "sis_id": "S-1"}, "sis_id", "c-ann"),  # not in any roster: next strategy
    ({"sis_id": "S-1", "blocked_clever_user_id": "c-ann"}, UNMATCHED, None),
])
def test_each_strategy(facts: dict[str, object], result: str, clever: str | None) -> None:
    found = _r(**facts)
    assert (found.result, found.clever_user_id) == (result, clever)
    assert found.conflicts == ()


@pytest.mark.parametrize(("facts", "kind", "method", "ids"), [
    ({"email": "shared@d1.org"}, "ambiguous", "email", ("c-bob", "c-cat")),
    ({"sis_id": "S-9", "email": "ann@d1.org"}, "ambiguous", "sis_id", ("c-dup1", "c-dup2")),  # stops before email
    ({"sis_id": "X-1"}, "ambiguous", "sis_id", ("c-pupil", "c-teach")),  # no role to tell them apart
    ({"clever_id_claim": "c-far"}, "other_district", "launch_claim", ("c-far",)),
])
def test_each_refusal_is_a_conflict_and_no_link(facts: dict[str, object], kind: str, method: str,
                                                ids: tuple[str, ...]) -> None:
    found = _r(**facts)
    assert found.result == UNMATCHED and found.clever_user_id is None
    [conflict] = found.conflicts
    assert (conflict.kind, conflict.method, conflict.clever_user_ids) == (kind, method, ids)


def test_another_districts_claim_is_a_conflict_yet_the_sis_id_still_matches_at_home() -> None:
    found = _r(clever_id_claim="c-far", sis_id="S-1")
    assert (found.result, found.clever_user_id) == ("sis_id", "c-ann")
    assert [c.kind for c in found.conflicts] == ["other_district"]


def test_rules_switch_strategies_off() -> None:
    assert _r(MatchRules(), email="ann@d1.org").result == UNMATCHED  # email matching is off by default
    assert _r(MatchRules(sis_id_matching=False), sis_id="S-1").result == UNMATCHED


def test_without_a_district_only_the_existing_link_counts() -> None:
    assert _r(district_id=None, sis_id="S-1", email="ann@d1.org", clever_id_claim="c-ann").result == UNMATCHED
    assert _r(district_id=None, linked_clever_user_id="c-lib").result == "existing"


@pytest.mark.parametrize(("raw", "expected"), [
    ("  S-1 ", "S-1"), ("", None), ("   ", None), ("$Canvas.user.sisIntegrationId", None), (42, "42"), (True, None),
    (None, None), ("x" * 300, None),
])
def test_clean_identifiers(raw: object, expected: str | None) -> None:
    assert clean(raw) == expected


def test_an_existing_link_to_another_districts_user_is_not_handed_off() -> None:
    found = _r(district_id="d-2", linked_clever_user_id="c-ann", sis_id="S-1")
    assert (found.result, found.clever_user_id) == (UNMATCHED, None)
    [conflict] = found.conflicts
    assert (conflict.kind, conflict.method, conflict.clever_user_ids) == ("other_district", "existing", ("c-ann",))
    # Linked at home, a Library user (in no roster), or a deployment without a district: the link counts.
    assert _r(linked_clever_user_id="c-ann").result == "existing"
    assert _r(district_id="d-2", linked_clever_user_id="c-lib").result == "existing"
    assert _r(district_id=None, linked_clever_user_id="c-ann").result == "existing"
