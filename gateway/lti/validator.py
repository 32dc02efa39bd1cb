"""Step 3: the authentication response, checked as the 1EdTech Security Framework §5.1.3 asks, and more.

Order matters and is deliberate: the login state is found first (it names the registration, so the
platform that answers must be the one the gateway asked); the token is parsed, its header allowed
(RS256 only, a ``kid``); the signature is verified against the platform JWKS; only then are times,
issuer, audience (``aud`` contains the client id; ``azp`` when present or when ``aud`` has several
values), nonce, LTI claims and deployment read. Nothing is written here: the nonce is consumed by
:class:`gateway.lti.launch.LaunchService` in the transaction that records the launch.

pylti1p3's ``MessageLaunch`` is not used for this: it leaves ``aud`` unchecked (``verify_aud: False``),
never consumes the nonce, has no ``iat`` leeway and fetches the JWKS without a timeout (pylti1p3 2.0.0).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

import jwt
from sqlalchemy.orm import Session

import gateway.lti.claims as c
import gateway.lti.errors as errors
from gateway.lti.config import LtiConfig
from gateway.lti.jwks import PlatformKeys
from gateway.lti.login import origin_of, valid_frame_name
from gateway.lti.messages import check_message
from gateway.lti.platform_errors import platform_error
from gateway.lti.registrations import Deployment, Registration, RegistrationDirectory
from gateway.lti.state import COOKIE_PREFIX, LoginState, LoginStates, cookie_name, digest
from gateway.store.models.base import utcnow

_MINT = object()  # only this module can make a VerifiedLaunch
ALLOWED_ALG = "RS256"


@dataclass(frozen=True)
class LaunchPost:
    """What the browser posted to ``/lti/launch``, and the little the gateway knows about the request."""

    id_token: str | None
    state: str | None
    error: str | None = None
    error_description: str | None = None  # the platform's free text: never shown nor logged (platform_errors)
    storage_target: str | None = None
    storage_check: str | None = None  # set by the gateway's own check page: ok | mismatch | unavailable
    same_origin: bool = False
    cookie_names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StorageCheck:
    """Not a refusal: the browser must confirm the state through the platform's postMessage storage."""

    state: str
    storage_target: str
    platform_origin: str
    id_token: str


@dataclass(frozen=True)
class VerifiedLaunch:
    """A launch whose every check passed. Made only by :class:`LaunchValidator`."""

    registration: Registration
    deployment: Deployment | None  # None: a deployment the gateway has not seen yet
    deployment_id: str
    message_type: str
    claims: Mapping[str, Any]
    state: str
    _mint: object = field(repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self._mint is not _MINT:
            raise TypeError("a VerifiedLaunch is made by LaunchValidator only")

    @property
    def sub(self) -> str:
        return str(self.claims["sub"])

    def claim(self, name: str) -> dict[str, Any]:
        """An object claim, or an empty dict when absent."""
        value = self.claims.get(name)
        return dict(value) if isinstance(value, Mapping) else {}


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def parse_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload, read without trusting them (to pick the key)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise errors.IdTokenMalformed("The id_token must have three dot-separated parts.")
    try:
        header, payload = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, binascii.Error, UnicodeError) as e:
        raise errors.IdTokenMalformed("The id_token's header or payload is not base64url JSON.") from e
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise errors.IdTokenMalformed("The id_token's header and payload must be JSON objects.")
    if not isinstance(payload.get("iss"), str) or not isinstance(payload.get("aud"), str | list):
        raise errors.IdTokenNotLti("The token has no iss or aud: it is not an LTI 1.3 message.")
    return header, payload


def check_header(header: Mapping[str, Any]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise errors.IdTokenUnsigned("The id_token header has alg none or no alg.")
    if alg != ALLOWED_ALG:
        raise errors.IdTokenAlgNotAllowed(f"The id_token is signed with {alg[:20]}; only RS256 is accepted.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise errors.IdTokenKidMissing()
    return kid


def verify_signature(token: str, key: jwt.PyJWK) -> dict[str, Any]:
    """Check the RS256 signature only; every claim is checked below with the gateway's own codes."""
    try:
        verified: dict[str, Any] = jwt.decode(
            token,
            key=key.key,
            algorithms=[ALLOWED_ALG],
            options={
                "verify_signature": True,
                # Times, issuer and audience are checked explicitly after this call, with the
                # configured leeway and a distinct refusal code for each.
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
                "require": [],
            },
        )
    except jwt.InvalidSignatureError as e:
        raise errors.IdTokenSignatureInvalid() from e
    except jwt.PyJWTError as e:
        raise errors.IdTokenMalformed("The id_token could not be decoded.") from e
    return verified


def check_times(claims: Mapping[str, Any], leeway: int, now: float) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    numbers = (int, float)
    if not isinstance(exp, numbers) or not isinstance(iat, numbers) or isinstance(exp, bool) or isinstance(iat, bool):
        raise errors.IdTokenTimesInvalid()
    if exp <= now - leeway:
        raise errors.IdTokenExpired(f"The token expired {int(now - exp)} seconds ago.")
    nbf = claims.get("nbf")
    for name, value in (("iat", iat), ("nbf", nbf)):
        if isinstance(value, numbers) and value > now + leeway:
            ahead = int(value - now)
            raise errors.IdTokenIatInFuture(f"The token's {name} is {ahead} seconds in the future.")


def check_audience(claims: Mapping[str, Any], registration: Registration, known_clients: set[str]) -> None:
    aud = claims.get("aud")
    if isinstance(aud, str):
        audiences = [aud]
    else:
        audiences = [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []
    if registration.client_id not in audiences:
        if known_clients.intersection(audiences):
            raise errors.AudMismatch("The token's audience is another registration of this platform.")
        raise errors.ClientIdUnknown("The token's audience names no registered client id.")
    azp = claims.get("azp")
    if azp is None and len(audiences) > 1:
        raise errors.AzpMissing()
    if azp is not None and azp != registration.client_id:
        raise errors.AzpMismatch()


class LaunchValidator:
    def __init__(
        self, states: LoginStates, keys: PlatformKeys, config: LtiConfig, directory: RegistrationDirectory
    ) -> None:
        self._states = states
        self._keys = keys
        self._config = config
        self._directory = directory

    def validate(self, session: Session, post: LaunchPost) -> VerifiedLaunch | StorageCheck:
        """Check the launch post; reads only (the login state, and on refusals the reason), in ``session``."""
        login, registration = self._login(session, post)
        retry = self.retry_url(login, registration) if login and registration else None
        try:
            return self._validate(session, post, login, registration)
        except errors.LtiError as e:
            if e.new_window and e.retry_url is None:
                e.retry_url = retry
            raise

    def _login(self, session: Session, post: LaunchPost) -> tuple[LoginState | None, Registration | None]:
        if not post.state:
            return None, None
        login = self._states.find(session, post.state)
        registration = self._directory.get(session, login.registration_id) if login else None
        return login, registration

    def _validate(
        self, session: Session, post: LaunchPost, login: LoginState | None, registration: Registration | None
    ) -> VerifiedLaunch | StorageCheck:
        if post.error:
            # Fixed text per known code: error_description is attacker-writable and never shown (platform_errors).
            raise platform_error(post.error)
        if not post.state:
            raise errors.StateMissing()
        if login is None or registration is None:
            raise errors.StateUnknown()
        if login.expired(utcnow()):
            raise errors.StateExpired()
        if not post.id_token:
            raise errors.IdTokenMissing()
        if len(post.id_token.encode("utf-8")) > self._config.max_id_token_bytes:
            raise errors.IdTokenTooLarge(f"The id_token exceeds {self._config.max_id_token_bytes} bytes.")
        header, _ = parse_unverified(post.id_token)
        kid = check_header(header)
        if not registration.active:
            raise errors.RegistrationDisabled()
        key = self._keys.key(registration.jwks_url, kid)
        claims = verify_signature(post.id_token, key)
        check_times(claims, self._config.leeway_seconds, time.time())
        self._check_identity_claims(session, claims, registration, login)
        message_type = check_message(claims)
        target = claims.get(c.TARGET_LINK_URI)
        if isinstance(target, str) and not self._config.is_own_launch_target(target):
            raise errors.TargetLinkUriInvalid(f"The token's target link URI is not {self._config.launch_url}.")
        deployment_id = str(claims[c.DEPLOYMENT_ID])
        if login.deployment_hint is not None and login.deployment_hint != deployment_id:
            raise errors.DeploymentMismatch()
        deployment = self._deployment(session, registration, deployment_id)
        check = self._browser_binding(post, login, registration)
        if check is not None:
            return check
        return VerifiedLaunch(
            registration=registration,
            deployment=deployment,
            deployment_id=deployment_id,
            message_type=message_type,
            claims=MappingProxyType(copy.deepcopy(claims)),
            state=str(post.state),
            _mint=_MINT,
        )

    def _check_identity_claims(
        self, session: Session, claims: dict[str, Any], registration: Registration, login: LoginState
    ) -> None:
        issuers = self._directory.for_issuer(session, str(claims.get("iss")))
        replayed = None
        nonce = claims.get("nonce")
        if isinstance(nonce, str) and digest(nonce) != login.nonce_hash:
            replayed = self._states.find_by_nonce(session, nonce)
        if claims.get("iss") != registration.issuer:
            if not issuers:
                raise errors.IssuerUnknown("The token's issuer is not registered.")
            raise errors.IssuerMismatch()
        check_audience(claims, registration, {r.client_id for r in issuers})
        if not isinstance(nonce, str) or not nonce:
            raise errors.NonceMissing()
        if login.used or (replayed is not None and replayed.used):
            raise errors.IdTokenReplayed()
        if digest(nonce) != login.nonce_hash:
            raise errors.NonceMismatch()

    def _deployment(self, session: Session, registration: Registration, deployment_id: str) -> Deployment | None:
        deployment = self._directory.deployment(session, registration.id, deployment_id)
        if deployment is not None and deployment.status == "disabled":
            raise errors.DeploymentDisabled()
        if deployment is not None and deployment.status == "pending":
            raise errors.DeploymentPending()
        return deployment

    def _browser_binding(self, post: LaunchPost, login: LoginState, registration: Registration) -> StorageCheck | None:
        """The browser proves it began this login: the state cookie, or the platform's postMessage storage."""
        state = str(post.state)
        if cookie_name(state) in post.cookie_names:
            return None
        if post.storage_check == "ok":
            if post.same_origin:
                return None
            raise errors.StateMismatch("The storage confirmation did not come from the gateway's own page.")
        if post.storage_check == "mismatch":
            raise errors.StateMismatch("The LMS frame holds another login state than this launch.")
        if post.storage_check is not None:
            raise errors.StateStorageUnavailable()
        offered = post.storage_target if valid_frame_name(post.storage_target) else None
        target = offered or login.storage_target
        if target:
            return StorageCheck(state, target, origin_of(registration.auth_login_url), str(post.id_token))
        if any(name.startswith(COOKIE_PREFIX) for name in post.cookie_names):
            raise errors.StateMismatch("This browser began another login than the one this launch answers.")
        raise errors.StateCookieMissing()

    def retry_url(self, login: LoginState, registration: Registration) -> str:
        """The login again, for a top-level window where the tool's cookie is first-party."""
        params = {
            "iss": registration.issuer,
            "client_id": registration.client_id,
            "login_hint": login.login_hint,
            "target_link_uri": login.target_link_uri,
        }
        if login.message_hint is not None:
            params["lti_message_hint"] = login.message_hint
        if login.deployment_hint is not None:
            params["lti_deployment_id"] = login.deployment_hint
        return self._config.login_url + "?" + urlencode(params)
