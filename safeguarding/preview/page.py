"""What is added to a served page (never to the file): the reload script, the failed build's panel, the
nonce the page's content security policy must allow, and the page shown before the first build."""

from __future__ import annotations

import re
import secrets

from safeguarding import escape
from safeguarding.preview.state import STATUS_PATH, Status

_SCRIPT = """(function () {
  var version = %(version)d, box = null;
  function say(text) {
    if (!box) {
      box = document.createElement("div");
      box.id = "preview-banner";
      box.setAttribute("role", "status");
      box.style.cssText = "position:fixed;top:0;right:0;z-index:2147483647;margin:8px;padding:6px 12px;" +
        "font:bold 16px/1.4 system-ui,sans-serif;background:#0b0c0c;color:#fff;border:3px solid #ffdd00";
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.hidden = !text;
  }
  function poll() {
    fetch("%(status)s", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.version !== version) { window.location.reload(); return; }
      say(s.state === "building" ? "Rebuilding\\u2026" : "");
      window.setTimeout(poll, 500);
    }).catch(function () {
      say("Preview stopped: start pipeline.py preview again");
      window.setTimeout(poll, 2000);
    });
  }
  window.setTimeout(poll, 500);
})();"""

_PANEL_STYLE = ("margin:0;padding:16px 20px;background:#fff;color:#0b0c0c;border:5px solid #d4351c;"
                "font:16px/1.5 system-ui,sans-serif;position:relative;z-index:2147483646")
_CSP_META = re.compile(r"""<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>""", re.I)
_CONTENT_ATTR = re.compile(r"""(\bcontent\s*=\s*)(["'])(.*?)\2""", re.I | re.S)


def preview_script(version: int, nonce: str | None = None) -> str:
    """The ``<script>`` element added to every served page: it reloads the page when ``version`` changes."""
    attr = f' nonce="{escape.html(nonce, breakable=False)}"' if nonce else ""
    return f"<script{attr}>{_SCRIPT % {'version': int(version), 'status': STATUS_PATH}}</script>"


def error_panel(status: Status) -> str:
    """The failed build's stage, message and log as an HTML panel: every value escaped as text.

    The message keeps its lines (a configuration error lists one problem per line).
    """
    e = escape.html
    lines = "<br>".join(e(line) for line in (status.message or "").splitlines()) or "(no message)"
    log = f'<p style="margin:8px 0 0">Log: <code>{e(status.log, breakable=False)}</code></p>' if status.log else ""
    return (f'<div id="preview-error" role="alert" style="{_PANEL_STYLE}">'
            f'<p style="margin:0 0 8px;font-weight:bold;font-size:19px">Preview: the build failed at stage '
            f'\u201c{e(status.stage or "unknown")}\u201d</p>'
            f'<p style="margin:0;overflow-wrap:anywhere">{lines}</p>{log}'
            '<p style="margin:8px 0 0">Save the fix: the preview rebuilds and this page reloads. '
            "Below is the last review that built.</p></div>")


def allow_nonce(html: str, nonce: str) -> str:
    """Let a script with ``nonce`` run under the page's own Content-Security-Policy ``<meta>`` (if it has one).

    Adds ``'nonce-…'`` to ``script-src`` (or, without it, a ``script-src`` made from
    ``default-src``) and ``'self'`` to ``connect-src`` likewise, in the served copy only.
    A page without such a ``<meta>`` is returned unchanged.
    """
    def fix_policy(policy: str) -> str:
        directives = [d.strip() for d in policy.split(";") if d.strip()]
        names = [d.split()[0].lower() for d in directives]
        default = next((d.split()[1:] for d in directives if d.split()[0].lower() == "default-src"), None)
        for name, source in (("script-src", f"'nonce-{nonce}'"), ("connect-src", "'self'")):
            if name in names:
                i = names.index(name)
                parts = [p for p in directives[i].split() if p.lower() != "'none'"]
                directives[i] = " ".join([*parts, source])
            elif default is not None:
                directives.append(" ".join([name, *(p for p in default if p.lower() != "'none'"), source]))
        return "; ".join(directives)

    def fix_meta(meta: re.Match[str]) -> str:
        return _CONTENT_ATTR.sub(lambda m: m.group(1) + m.group(2) + fix_policy(m.group(3)) + m.group(2),
                                 meta.group(0), count=1)

    return _CSP_META.sub(fix_meta, html)


_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.I)
_BODY_CLOSE = re.compile(r"</body\s*>", re.I)


def inject(html: str, status: Status) -> str:
    """A page as the preview serves it: the reload script before ``</body>``, the error panel after ``<body>``.

    The page on disk is never changed: this works on the text read from it.
    """
    nonce = secrets.token_urlsafe(16) if _CSP_META.search(html) else None
    if nonce:
        html = allow_nonce(html, nonce)
    if status.state == "failed":
        panel = error_panel(status)
        m = _BODY_OPEN.search(html)
        html = html[:m.end()] + panel + html[m.end():] if m else panel + html
    script = preview_script(status.version, nonce)
    closes = list(_BODY_CLOSE.finditer(html))
    if closes:
        at = closes[-1].start()
        return html[:at] + script + html[at:]
    return html + script


def placeholder_page(status: Status, path: str) -> str:
    """The page served for an HTML address with no file (yet): says so, with the script (and the error panel)."""
    e = escape.html
    if status.state == "building":
        text = "The review is being built; this page reloads when it is ready."
    else:
        text = f"There is no page at {e(path, breakable=False)}."
    link = f' <a href="{e(status.page, breakable=False)}">The review being previewed</a>.' if status.page else ""
    return ('<!DOCTYPE html>\n<html lang="en-GB">\n<head><meta charset="utf-8"><title>Preview</title></head>\n'
            f'<body>\n<main><h1>Preview</h1><p>{text}{link}</p></main>\n</body>\n</html>\n')
