"""The identity feature's services: the launch step, the link-by-Clever-login flow, and administration."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.clever import CleverLogin, LoginStart
from gateway.identity.admin import IdentityAdmin
from gateway.identity.clever_link import CleverLinkFlow
from gateway.identity.launches import LaunchIdentity
from gateway.identity.metrics import IdentityMetrics
from gateway.store import Database


@dataclass(frozen=True)
class IdentityServices:
    db: Database
    launches: LaunchIdentity
    link_flow: CleverLinkFlow
    clever_login: CleverLogin
    admin: IdentityAdmin
    metrics: IdentityMetrics

    def start_link(self, token: str) -> LoginStart:
        """The link page's "Log in with Clever": a Clever login that comes back to :meth:`CleverLinkFlow.complete`."""
        return self.link_flow.start(token, self.clever_login)
