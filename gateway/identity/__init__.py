"""Identity: which Clever user each LMS (LTI) launch user is, and keeping that map honest.

A gateway user has any number of LTI identities (registration, ``sub``) and at most one Clever user id
(``users.clever_user_id``). Every LTI launch runs :func:`gateway.identity.resolver.resolve`, in order, stopping at
the first strategy that gives exactly one candidate: the existing link; a Clever id carried by the launch;
the SIS id (LIS ``person_sourcedid`` or a custom parameter) in the linked district's roster; the email, where
the registration allows it and the roster holds it once. Two or more candidates make a conflict for an
administrator, never a link. The person may also link by logging in with Clever (:mod:`.clever_link`).

Why so careful: Clever keys everything on the Clever user id; emails are neither guaranteed nor verified and
SIS ids are unique only within a district (https://dev.clever.com/docs/users). LTI claims:
LTI 1.3 Core §5.4.5, §5.4.6 (``https://purl.imsglobal.org/spec/lti/claim/lis``, ``.../claim/custom``).

Module map: ``rules`` (per-registration options), ``resolver`` (the strategies; Flask-free), ``links`` (link,
unlink and conflicts over the store), ``launches`` (the hook in the LTI launch transaction), ``clever_link``
(link by logging in with Clever), ``admin`` (what the API and CLI do), ``views``/``api``/``cli`` (thin).

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.identity.service import IdentityServices

__all__ = ["IdentityServices"]
