"""Plain HTML pages for people: error pages with a code and what to do next."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;
color:#1f2933;line-height:1.5}}
h1{{font-size:1.5rem}}
.code{{font-family:ui-monospace,monospace;background:#eef2f7;padding:.1rem .4rem;border-radius:4px}}
.box{{border:1px solid #d5dde7;border-radius:8px;padding:1rem 1.25rem}} small{{color:#52606d}}
</style>
</head>
<body>
<main class="box">
<h1>{title}</h1>
<p>{message}</p>
<p><strong>What you can do:</strong> {hint}</p>
{extra}
<p><small>Error code <span class="code" id="error-code">{code}</span>{request}</small></p>
</main>
</body>
</html>
"""


def error_page(*, title: str, message: str, hint: str, code: str, request_id: str | None, extra_html: str = "") -> str:
    """Render the error page. ``extra_html`` must already be safe HTML (built by the caller from escaped parts)."""
    request = f' · request <span class="code">{escape(request_id)}</span>' if request_id else ""
    return _PAGE.format(
        title=escape(title),
        message=escape(message),
        hint=escape(hint),
        code=escape(code),
        request=request,
        extra=extra_html,
    )
