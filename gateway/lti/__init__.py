"""LTI 1.3 tool: OIDC login, launch validation, Deep Linking, platform storage, hand-off to the vendor app.

Specs: LTI 1.3 core https://www.imsglobal.org/spec/lti/v1p3/ ; 1EdTech Security Framework
https://www.imsglobal.org/spec/security/v1p0/ ; Deep Linking 2.0 https://www.imsglobal.org/spec/lti-dl/v2p0/ ;
AGS 2.0 https://www.imsglobal.org/spec/lti-ags/v2p0/ ; client-side postMessage storage
(lti-cs-oidc, lti-pm-s v0p1). LMS quirks are noted where the code meets them.

Modules: ``claims`` (claim URIs, rules as data), ``errors`` (stable codes), ``config``, ``registrations``,
``login`` (steps 1-2), ``state`` (server-side state, browser binding), ``jwks`` (platform keys),
``validator`` (step 3, makes ``VerifiedLaunch``), ``platform_errors`` (the LMS's error posts), ``messages``
(claim rules), ``roles``, ``people`` (users), ``courses`` (contexts, resource links), ``launch`` (record and
hand-off, with the launch steps other features give), ``record`` (the vendor-facing document),
``deep_linking``, ``pages``, ``metrics``, ``service`` (the services container), ``feature`` (how the
composition root builds and plugs it in), ``views`` (thin Flask), ``cli``.

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.lti import ags, claims, management
from gateway.lti.ags import AgsAnswerError, AgsClient, AgsNoAnswer, AgsUrlRefused, MembershipPage
from gateway.lti.ags_token import AgsTokens, TokenTarget, TokenUnavailable
from gateway.lti.launch import LaunchInProgress, LaunchStep
from gateway.lti.people import LAST_LAUNCH_PRECISION, LaunchUser, roster_users
from gateway.lti.presets import PRESETS
from gateway.lti.registrations import Deployment
from gateway.lti.roles import normalize as normalize_roles
from gateway.lti.service import LtiServices
from gateway.lti.tool_config import canvas_configuration, tool_configuration
from gateway.lti.validator import VerifiedLaunch

__all__ = [
    "LAST_LAUNCH_PRECISION",
    "PRESETS",
    "AgsAnswerError",
    "AgsClient",
    "AgsNoAnswer",
    "AgsTokens",
    "AgsUrlRefused",
    "Deployment",
    "LaunchInProgress",
    "LaunchStep",
    "LaunchUser",
    "LtiServices",
    "MembershipPage",
    "TokenTarget",
    "TokenUnavailable",
    "VerifiedLaunch",
    "ags",
    "canvas_configuration",
    "claims",
    "management",
    "normalize_roles",
    "roster_users",
    "tool_configuration",
]
