"""A gateway, the simulated LMS and the simulated Clever on loopback, wired together, and the steps tests take."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from sqlalchemy import func, select

from gateway.lti import claims as c
from gateway.store.models.core import AuditEntryRow, LaunchRow, UserRow
from gateway.store.models.identity import IdentityConflictRow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.lti_registrations import DeploymentRepository
from sandbox.lms import LaunchIntent
from sandbox.lms.platform import User
from tests.support.clever_roster import SeededDistrict, connect_and_sync, seed_district, sync_now
from tests.support.clever_sim import RunningClever, clever_settings, start_clever
from tests.support.lti_flow import Browser, Launch, launch, parse_page
from tests.support.lti_sandbox import LtiWorld, lti_world

LEARNER = (c.MEMBERSHIP_ROLE + "Learner", c.INSTITUTION_ROLE + "Student")
INSTRUCTOR = (c.MEMBERSHIP_ROLE + "Instructor", c.INSTITUTION_ROLE + "Faculty")


def lms_user(sub: str, *, email: str = "", learner: bool = True, name: str = "Pat Person") -> User:
    given, _, family = name.partition(" ")
    return User(sub, name, given, family, email or f"{sub}@lms.example.edu", LEARNER if learner else INSTRUCTOR)


@dataclass
class IdentityWorld:
    lti: LtiWorld
    clever: RunningClever
    seeded: list[SeededDistrict] = field(default_factory=list)

    @property
    def gateway(self) -> Any:
        return self.lti.gateway

    @property
    def url(self) -> str:
        return str(self.lti.gateway.url)

    # -- arrange ------------------------------------------------------------------------------------------

    def district(self, **kwargs: Any) -> SeededDistrict:
        """A district seeded in the simulated Clever (Grace Hopper T-1, Kid0..Kid2 S-0..S-2), synced to the gateway."""
        seeded = seed_district(self.clever.sim, **kwargs)
        self.seeded.append(seeded)
        connect_and_sync(self.gateway)
        return seeded

    def sync(self, district_id: str) -> None:
        """Sync one district again now (the vendor's on-demand trigger, then the worker's next pass)."""
        sync_now(self.gateway, district_id)

    @property
    def deployment_ref(self) -> str:
        with self.gateway.services.db.transaction() as s:
            row = DeploymentRepository(s).find(self.lti.registration.id, self.lti.platform.deployment_id)
            assert row is not None
            return str(row.id)

    def link_district(self, district_id: str | None) -> requests.Response:
        return self.admin().put(f"{self.url}/api/v1/admin/identity/deployments/{self.deployment_ref}/district",
                                json={"district_id": district_id, "reason": "district onboarding"}, timeout=10)

    def rules(self, **rules: Any) -> dict[str, Any]:
        response = self.admin().patch(f"{self.url}/api/v1/admin/identity/registrations/{self.lti.registration.id}"
                                      "/rules", json=rules, timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def admin(self) -> requests.Session:
        return self.gateway.api("admin")

    # -- act ----------------------------------------------------------------------------------------------

    def launch(self, user: User, *, custom: dict[str, str] | None = None, lis: dict[str, Any] | None = None,
               browser: Browser | None = None, **intent: Any) -> Launch:
        extra = {c.LIS: lis} if lis is not None else {}
        made = LaunchIntent(user=user, custom={"unit": "fractions", **(custom or {})}, extra_claims=extra, **intent)
        with self.lti.platform.lock:
            self.lti.platform.users[user.sub] = user
        return launch(browser or self.lti.browser(), self.lti.platform.prepare(made))

    def record(self, code: str | None) -> dict[str, Any]:
        assert code, "the launch should have handed off"
        response = self.lti.redeem(code)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def launch_record(self, user: User, **kwargs: Any) -> dict[str, Any]:
        return self.record(self.launch(user, **kwargs).code)

    def clever_login(self, clever_user_id: str, authorized_by: str = "district") -> dict[str, Any]:
        """The person logs in with Clever directly (Portal): a Clever launch record."""
        browser = self.lti.browser()
        sign_in(browser, self.clever, clever_user_id, authorized_by)
        response = browser.get(f"{self.clever.url}/sim/portal")
        final = follow(browser, response, self.vendor_url)
        return self.record_clever(final)

    def record_clever(self, location: str) -> dict[str, Any]:
        code = parse_qs(urlsplit(location).query)["code"][0]
        response = self.gateway.api("launches").post(f"{self.url}/api/v1/launches/redeem", json={"code": code},
                                                     timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    @property
    def vendor_url(self) -> str:
        return str(self.gateway.services.settings.vendor_launch_url)

    # -- assert -------------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self.gateway.services.db.transaction() as s:
            return {
                name: int(s.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (("users", UserRow), ("lti_identities", LtiIdentityRow), ("launches", LaunchRow),
                                    ("conflicts", IdentityConflictRow))
            }

    def audit(self, prefix: str = "identity.") -> list[AuditEntryRow]:
        with self.gateway.services.db.transaction() as s:
            rows = s.scalars(select(AuditEntryRow).where(AuditEntryRow.action.startswith(prefix))
                             .order_by(AuditEntryRow.id)).all()
            s.expunge_all()
            return list(rows)

    def user(self, user_id: str) -> dict[str, Any]:
        response = self.admin().get(f"{self.url}/api/v1/admin/identity/users/{user_id}", timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def sign_in(browser: Browser, clever: RunningClever, user_id: str, authorized_by: str = "district") -> None:
    query = urlencode({"user_id": user_id, "authorized_by": authorized_by})
    assert browser.get(f"{clever.url}/sim/signin?{query}").status_code == 200


def follow(browser: Browser, response: requests.Response, stop_at: str, max_hops: int = 10) -> str:
    """Follow redirects until one points at ``stop_at``; returns that URL."""
    url = response.url
    for _ in range(max_hops):
        location = response.headers.get("Location")
        assert response.status_code in (301, 302, 303, 307) and location, (response.status_code, response.text[:500])
        url = urljoin(url, location)
        if url.startswith(stop_at):
            return url
        response = browser.get(url)
    raise AssertionError("too many redirects")


def page_links(response: requests.Response) -> dict[str, str]:
    return parse_page(response.text).links


@contextmanager
def identity_world(database_url: str, keys_dir: Path) -> Iterator[IdentityWorld]:
    clever = start_clever()
    try:
        with lti_world(database_url, keys_dir, **clever_settings(clever, clever_page_limit=100)) as made:
            clever.sim.redirect_uris.insert(0, made.gateway.url + "/clever/callback")
            yield IdentityWorld(made, clever)
    finally:
        clever.close()
    clever.spec.assert_clean()
