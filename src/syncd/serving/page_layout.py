"""The frame every status page shares: one inline stylesheet, one tiny script, strict headers.

Nothing is fetched from anywhere: the style and the script are inline and allowed by
their hashes in the Content-Security-Policy, which allows nothing else (no other
script, no frame, no form target, no connection). The pages read the same without
the script: it only reloads them every REFRESH seconds, behind a checkbox the person
can untick (remembered by the browser), and that checkbox only appears when scripts run.
An error page has neither.
Colours meet WCAG AA contrast (4.5:1, tested); state is always written out in words,
never told by colour alone; the layout is a single column that fits a phone.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from aiohttp import web

from syncd.logs import scrub

REFRESH = 15

PALETTE = {
    "text": ("#1f2328", "#ffffff"),
    "muted": ("#59636e", "#ffffff"),
    "link": ("#0550ae", "#ffffff"),
    "ready": ("#116329", "#dafbe1"),
    "reconciling": ("#0a3069", "#ddf4ff"),
    "retrying": ("#6c3b00", "#fff8c5"),
    "blocked": ("#6c3b00", "#fff8c5"),
    "stalled": ("#82071e", "#ffebe9"),
    "invalid": ("#82071e", "#ffebe9"),
    "pending": ("#32383f", "#eaeef2"),
    "standby": ("#32383f", "#eaeef2"),
    "suspended": ("#32383f", "#eaeef2"),
}
"""(foreground, background) of each kind of text: every pair is checked for contrast."""

_BADGES = "\n".join(
    f".badge.{kind} {{ color: {fg}; background: {bg}; }}"
    for kind, (fg, bg) in PALETTE.items()
    if kind not in ("text", "muted", "link")
)

STYLE = f"""
:root {{ color-scheme: light; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: {PALETTE["text"][0]}; background: {PALETTE["text"][1]}; }}
header, main, footer {{ max-width: 64rem; margin: 0 auto; padding: 0.75rem 1rem; }}
header {{ border-bottom: 1px solid #d1d9e0; display: flex; flex-wrap: wrap;
  gap: 0.5rem 1rem; align-items: baseline; justify-content: space-between; }}
h1 {{ font-size: 1.4rem; margin: 0; }}
h2 {{ font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }}
h3 {{ font-size: 1.05rem; margin: 0; }}
a {{ color: {PALETTE["link"][0]}; }}
a:focus-visible, input:focus-visible, summary:focus-visible, [tabindex]:focus-visible {{
  outline: 3px solid {PALETTE["link"][0]}; outline-offset: 2px; }}
.muted {{ color: {PALETTE["muted"][0]}; }}
.skip {{ position: absolute; left: -999px; }}
.skip:focus {{ left: 1rem; top: 0.5rem; background: #fff; padding: 0.25rem 0.5rem; }}
.badge {{ display: inline-block; padding: 0 0.5rem; border-radius: 1rem;
  font-weight: 600; font-size: 0.9rem; white-space: nowrap; }}
{_BADGES}
.cards {{ list-style: none; padding: 0; margin: 0; display: grid; gap: 0.75rem; }}
.card {{ border: 1px solid #d1d9e0; border-radius: 0.5rem; padding: 0.75rem 1rem; }}
.card-head {{ display: flex; flex-wrap: wrap; gap: 0.25rem 0.75rem; align-items: center; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
  margin: 0.5rem 0 0; }}
dt {{ color: {PALETTE["muted"][0]}; }}
dd {{ margin: 0; overflow-wrap: anywhere; }}
ul.problems {{ margin: 0.25rem 0; padding-left: 1.25rem; color: {PALETTE["invalid"][0]}; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.95rem; }}
th, td {{ text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #d1d9e0;
  vertical-align: top; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
progress {{ width: 100%; max-width: 20rem; height: 1rem; }}
svg.chart {{ width: 100%; height: auto; max-width: 720px; }}
svg .caption {{ font-size: 13px; fill: {PALETTE["text"][0]}; font-weight: 600; }}
svg .tick, svg .legend {{ font-size: 12px; fill: {PALETTE["muted"][0]}; }}
svg .tick {{ text-anchor: end; }}
svg .axis {{ stroke: #8c959f; }}
code {{ font-size: 0.9em; overflow-wrap: anywhere; }}
summary {{ cursor: pointer; }}
details ul {{ margin: 0.25rem 0; padding-left: 1.25rem; }}
@media (max-width: 40rem) {{
  dl {{ grid-template-columns: 1fr; gap: 0; }}
  dt {{ margin-top: 0.4rem; }}
  header, main, footer {{ padding: 0.5rem 0.75rem; }}
}}
"""

SCRIPT = f"""
(function () {{
  var box = document.getElementById("refresh");
  if (!box) return;
  box.parentNode.hidden = false;
  box.checked = localStorage.getItem("syncd.refresh") !== "off";
  box.addEventListener("change", function () {{
    localStorage.setItem("syncd.refresh", box.checked ? "on" : "off");
  }});
  setInterval(function () {{ if (box.checked) location.reload(); }}, {REFRESH * 1000});
}})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


POLICY = (
    f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def page(title: str, body: str, *, status: int = 200) -> web.Response:
    """A complete page: `body` is trusted HTML (every value in it already escaped)."""
    # Only a status page reloads itself: an error page reloaded asks again what was refused
    # (a 401 brings the browser's password prompt back every REFRESH seconds).
    refreshes = status < 400
    toggle = (
        f'<label hidden><input type="checkbox" id="refresh"> refresh every {REFRESH} s</label>\n'
        if refreshes
        else ""
    )
    script = f"<script>{SCRIPT}</script>\n" if refreshes else ""
    text = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{escape(title)} · syncd</title>
<style>{STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<h1><a href="/">syncd</a> · {escape(title)}</h1>
{toggle}</header>
<main id="main">
{body}
</main>
<footer class="muted">Read-only view of this daemon.
JSON: <a href="/v1/destinations">/v1/destinations</a>.</footer>
{script}</body>
</html>
"""
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def badge(kind: str, words: str) -> str:
    return f'<span class="badge {escape(kind)}">{escape(words)}</span>'


def text(value: object) -> str:
    """Any value as page text: scrubbed of secrets and addresses, escaped."""
    return escape(scrub(str(value)))


def when(timestamp: str | None) -> str:
    """A moment as a `<time>` element, or "never"."""
    if not timestamp:
        return '<span class="muted">never</span>'
    return f'<time datetime="{escape(timestamp)}">{escape(timestamp.replace("T", " "))}</time>'
