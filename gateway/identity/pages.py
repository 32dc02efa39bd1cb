"""The one page a person sees from this feature: link your Clever account, or continue without."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Connect your Clever account</title>
<style>body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:40rem;margin:3rem auto;
padding:0 1rem;color:#1f2933;line-height:1.5}} .box{{border:1px solid #d5dde7;border-radius:8px;padding:1rem 1.25rem}}
.button{{display:inline-block;background:#1f6feb;color:#fff;padding:.5rem 1rem;border-radius:6px;text-decoration:none}}
</style></head><body><main class="box">
<h1>Connect your Clever account</h1>
<p>Your school uses Clever. Log in with Clever once so this app knows your LMS account and your Clever account are
the same person; you will not be asked again.</p>
<p><a class="button" id="link-clever" href="{clever}" target="_blank" rel="opener">Log in with Clever</a></p>
<p><a id="continue-without-clever" href="{skip}">Continue without Clever</a></p>
</main></body></html>
"""


def link_page(*, clever_url: str, skip_url: str) -> str:
    return _PAGE.format(clever=escape(clever_url), skip=escape(skip_url))
