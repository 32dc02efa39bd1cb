"""Step 1 and 2 of an LTI 1.3 launch: third-party-initiated login, then the authentication request.

Spec: LTI 1.3 core §4.1 and 1EdTech Security Framework §5.1.1 (https://www.imsglobal.org/spec/security/v1p0/);
parameters as platforms send them (Canvas: ``lti_storage_target``). Plain values in, plain values out: no Flask here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session

import gateway.lti.errors as errors
from gateway.lti.config import LtiConfig
from gateway.lti.registrations import Registration, RegistrationDirectory
from gateway.lti.state import LoginStates
from gateway.store import Database

MAX_PARAM_CHARS = 8192
# A frame name: Canvas sends `post_message_forwarding`, Sakai `_parent`.
_FRAME_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def valid_frame_name(name: str | None) -> bool:
    return bool(name) and _FRAME_NAME.match(name or "") is not None


@dataclass(frozen=True)
class LoginRequest:
    iss: str
    login_hint: str
    target_link_uri: str
    lti_message_hint: str | None
    client_id: str | None
    deployment_id: str | None
    storage_target: str | None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LoginRequest:
        """Read the login parameters (query or form). Canvas names the deployment ``deployment_id``."""
        values: dict[str, str | None] = {}
        for name in ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_storage_target"):
            raw = params.get(name)
            if raw is not None and len(raw) > MAX_PARAM_CHARS:
                raise errors.LoginParamInvalid(f"The login parameter {name} is over {MAX_PARAM_CHARS} characters.")
            values[name] = raw.strip() if raw else None
        deployment = params.get("lti_deployment_id") or params.get("deployment_id")
        if deployment is not None and len(deployment) > 255:
            raise errors.LoginParamInvalid("The login parameter lti_deployment_id is longer than 255 characters.")
        missing = [n for n in ("iss", "login_hint", "target_link_uri") if not values[n]]
        if missing:
            raise errors.LoginParamMissing(f"The LMS did not send {', '.join(missing)}.")
        storage = values["lti_storage_target"]
        return cls(
            iss=str(values["iss"]),
            login_hint=str(values["login_hint"]),
            target_link_uri=str(values["target_link_uri"]),
            lti_message_hint=values["lti_message_hint"],
            client_id=values["client_id"],
            deployment_id=deployment or None,
            # An unusable frame name is dropped: the cookie path still works without it.
            storage_target=storage if valid_frame_name(storage) else None,
        )


@dataclass(frozen=True)
class LoginRedirect:
    """Where to send the browser, and what the browser must remember for the launch to find."""

    auth_url: str
    state: str
    registration_id: str
    storage_target: str | None
    platform_origin: str


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_query(url: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return url + separator + urlencode(params)


class LoginService:
    def __init__(
        self, db: Database, states: LoginStates, config: LtiConfig, directory: RegistrationDirectory
    ) -> None:
        self._db = db
        self._states = states
        self._config = config
        self._directory = directory

    def initiate(self, request: LoginRequest) -> LoginRedirect:
        """One transaction; warm (registration and deployment cached), one statement: the state's INSERT."""
        with self._db.transaction() as s:
            registration = self._registration(s, request)
            if not self._config.is_own_launch_target(request.target_link_uri):
                raise errors.TargetLinkUriInvalid(
                    f"The target link URI must be {self._config.launch_url}, not {request.target_link_uri[:200]}."
                )
            if request.deployment_id is not None:
                deployment = self._directory.deployment(s, registration.id, request.deployment_id)
                if deployment is not None and deployment.status == "disabled":
                    raise errors.DeploymentDisabled()
            login = self._states.begin(
                s,
                registration_id=registration.id,
                target_link_uri=request.target_link_uri,
                login_hint=request.login_hint,
                message_hint=request.lti_message_hint,
                deployment_hint=request.deployment_id,
                storage_target=request.storage_target,
            )
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": registration.client_id,
            "redirect_uri": self._config.launch_url,
            "state": login.state,
            "nonce": login.nonce,
            "login_hint": request.login_hint,
        }
        if request.lti_message_hint is not None:
            params["lti_message_hint"] = request.lti_message_hint  # unaltered (Blackboard insists)
        return LoginRedirect(
            auth_url=_with_query(registration.auth_login_url, params),
            state=login.state,
            registration_id=registration.id,
            storage_target=request.storage_target,
            platform_origin=origin_of(registration.auth_login_url),
        )

    def _registration(self, session: Session, request: LoginRequest) -> Registration:
        candidates = self._directory.for_issuer(session, request.iss)
        if request.client_id is not None:
            # (issuer, client id) is unique: the issuer's registrations hold it if it exists.
            chosen = next((r for r in candidates if r.client_id == request.client_id), None)
        else:
            chosen = candidates[0] if len(candidates) == 1 else None
        if not candidates:
            raise errors.IssuerUnknown(f"No registration has the issuer {request.iss[:200]}.")
        if chosen is None and request.client_id is None:
            raise errors.ClientIdRequired(f"The issuer {request.iss[:200]} has {len(candidates)} registrations.")
        if chosen is None:
            raise errors.ClientIdUnknown(f"The client id {str(request.client_id)[:200]} is not registered.")
        if not chosen.active:
            raise errors.RegistrationDisabled()
        return chosen
