"""Dev mode only: the vendor app's landing page at the default ``GATEWAY_VENDOR_LAUNCH_URL``.

It does what a vendor back end does (redeem the one-time code for the launch record) and shows the
record, so ``make run`` shows the whole hand-off. Or, switched to *hold* (a cookie set at
``/sandbox/vendor/``), it leaves the code unused and shows the exact ``curl`` that redeems it, so the quick
start's engineer redeems it from a shell with their own API key. A reload after the code was used says that a
code works once and offers to launch again. For a deep-linking launch it offers a few content items (refusing
an empty pick) and posts the signed response back to the platform. It calls the gateway's services directly
with a fixed dev caller instead of an API key: it runs inside the gateway and only in dev mode.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, request

from gateway.api.keys import ApiKey
from gateway.errors import GatewayError, NotFound
from gateway.handoff import HandoffService
from gateway.lti import LtiServices
from gateway.web import core, services
from sandbox import vendor_pages as pages
from sandbox.vendor_pages import SAMPLE_ITEMS

bp = Blueprint("sandbox_vendor", __name__, url_prefix="/sandbox/vendor")
DEV_CALLER = ApiKey(id="sandbox-vendor-page", name="dev vendor page", scopes=frozenset({"launches"}))
HOLD_COOKIE = "sandbox_vendor_hold"
EMPTY_PICK = "Pick at least one item to add, or press “Cancel: add nothing” to return to the course without content."

__all__ = ["DEV_CALLER", "HOLD_COOKIE", "SAMPLE_ITEMS", "bp"]


@bp.before_request
def _dev_only() -> None:
    if not core().settings.is_dev:
        raise NotFound("The sandbox exists in dev mode only.")


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def _holding() -> bool:
    return request.cookies.get(HOLD_COOKIE) == "1"


@bp.get("/")
def about() -> Response:
    return _html(pages.about_page(_holding()))


@bp.post("/hold")
def hold() -> Response:
    """Switch between redeeming codes on the page and holding them for the shell (a cookie of this browser)."""
    back_to = request.form.get("next", "")
    if not back_to.startswith("/") or back_to.startswith("//"):
        back_to = "/sandbox/vendor/"  # only a path of this server: no open redirect
    response = Response(status=303, headers={"Location": back_to})
    if request.form.get("hold") == "on":
        response.set_cookie(HOLD_COOKIE, "1", path="/", samesite="Lax", httponly=True)
    else:
        response.delete_cookie(HOLD_COOKIE, path="/")
    return response


@bp.get("/launch")
def launch() -> Response:
    code = request.args.get("code", "")
    if _holding():
        status = services(HandoffService).status(code)
        if status.state == "live":
            settings = core().settings
            return _html(pages.held_page(code, settings.public_base_url, settings.handoff_code_ttl_seconds))
    return _redeem(code)


@bp.post("/launch")
def redeem_here() -> Response:
    """The held page's button: redeem the code on the page after all."""
    return _redeem(request.form.get("code", ""))


def _redeem(code: str) -> Response:
    handoff = services(HandoffService)
    try:
        record = handoff.redeem(code, DEV_CALLER)
    except GatewayError as e:
        if e.code == "HANDOFF_CODE_ALREADY_REDEEMED":
            launch_id = handoff.status(code).launch_id
            return _html(pages.used_page(launch_id, _read_again(launch_id)), e.status)
        return _html(pages.refused_page(code, e.message, e.status), e.status)
    return _html(pages.record_page(record))


def _read_again(launch_id: str | None) -> dict[str, object] | None:
    """The record again when this page redeemed the code (the same caller may read it until it expires)."""
    if launch_id is None:
        return None
    try:
        return services(HandoffService).get(launch_id, DEV_CALLER)
    except GatewayError:
        return None  # redeemed by another key (the shell): its record is that key's to read



@bp.post("/deep-link/<launch_id>")
def deep_link(launch_id: str) -> Response:
    cancelled = request.form.get("cancel") == "1"
    items = [] if cancelled else [SAMPLE_ITEMS[k] for k in request.form.getlist("item") if k in SAMPLE_ITEMS]
    try:
        if not items and not cancelled:
            # An empty pick is almost always a slip: say so instead of telling the LMS "nothing chosen".
            record = services(HandoffService).get(launch_id, DEV_CALLER)
            return _html(pages.record_page(record, picker_error=EMPTY_PICK), 422)
        answer = services(LtiServices).deep_linking.respond(launch_id, DEV_CALLER, {"content_items": items})
    except GatewayError as e:
        return _html(pages.page("Deep link refused", f"<p>{escape(e.code)}: {escape(e.message)}</p>"), e.status)
    return Response(answer["form_html"], mimetype="text/html")
