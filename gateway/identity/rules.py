"""Per-registration matching rules, kept as flat keys in ``lti_registrations.options``.

=========================  ========  ==========================================================================
key                        default   meaning
=========================  ========  ==========================================================================
``clever_id_param``        none      custom parameter carrying the Clever user id (e.g. a Canvas custom
                                     variable the district fills with the Clever id)
``clever_id_from_sub``     auto      the launch's ``sub`` is the Clever user id: Clever-brokered launches
                                     (Clever LMS Connect LTI 1.3 SSO); auto means "when the
                                     issuer is clever.com"
``sis_id_param``           none      custom parameter carrying the SIS id, instead of the LIS
                                     ``person_sourcedid`` (e.g. ``$Person.sourcedId`` or Canvas's
                                     ``$Canvas.user.sisIntegrationId``)
``sis_id_matching``        true      match the SIS id against the linked district's roster
``email_matching``         false     match the email, only where the roster holds it exactly once
``clever_login_linking``   false     offer an unmatched person to link by logging in with Clever
=========================  ========  ==========================================================================

Whatever the rules, matching beyond an existing link happens only in a deployment linked to a Clever
district: the district is the scope of every roster lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

STRING_KEYS = ("clever_id_param", "sis_id_param")
BOOL_KEYS = ("clever_id_from_sub", "sis_id_matching", "email_matching", "clever_login_linking")
KEYS = STRING_KEYS + BOOL_KEYS
_MAX_PARAM = 100


def _issuer_is_clever(issuer: str) -> bool:
    host = (urlsplit(issuer).hostname or "").lower()
    return host == "clever.com" or host.endswith(".clever.com")


def _param(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() and len(value) <= _MAX_PARAM else None


def _bool(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


@dataclass(frozen=True)
class MatchRules:
    clever_id_param: str | None = None
    clever_id_from_sub: bool = False
    sis_id_param: str | None = None
    sis_id_matching: bool = True
    email_matching: bool = False
    clever_login_linking: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any], issuer: str = "") -> MatchRules:
        """Read the rules; a value of the wrong type counts as absent (the default applies)."""
        return cls(
            clever_id_param=_param(options.get("clever_id_param")),
            clever_id_from_sub=_bool(options.get("clever_id_from_sub"), _issuer_is_clever(issuer)),
            sis_id_param=_param(options.get("sis_id_param")),
            sis_id_matching=_bool(options.get("sis_id_matching"), True),
            email_matching=_bool(options.get("email_matching"), False),
            clever_login_linking=_bool(options.get("clever_login_linking"), False),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RuleInvalid(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def parse_changes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a change of rules: known keys only; strings for parameters, booleans for switches, None to reset."""
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise RuleInvalid(unknown[0], f"unknown rule {unknown[0]!r}; known: {', '.join(KEYS)}")
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            changes[key] = None
        elif key in STRING_KEYS:
            if _param(value) is None:
                raise RuleInvalid(key, f"{key} must be a parameter name of 1 to {_MAX_PARAM} characters")
            changes[key] = value.strip()
        elif not isinstance(value, bool):
            raise RuleInvalid(key, f"{key} must be true or false")
        else:
            changes[key] = value
    return changes


def _check_option(key: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        try:
            parse_changes({key: value})
        except RuleInvalid as e:
            return str(e).removeprefix(f"{key} ")
        return None

    return check


def registration_option_checks() -> dict[str, Callable[[Any], str | None]]:
    """The checks LTI registration management runs on these keys of ``options`` (given to it at construction)."""
    return {key: _check_option(key) for key in KEYS}
