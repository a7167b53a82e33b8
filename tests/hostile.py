"""A catalogue of hostile strings, as a council's messy or malicious extract could hold them.

Each must be shown literally wherever it appears (a table cell, a sentence, a
heading, a caption, alt text, a chart label), and none may run, fetch, embed
or format anything. ``{secret}`` and ``{port}`` are filled in by the tests: a
file whose content must never reach the page, and a local HTTP server that
must never be asked for anything.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    '<img src="{secret}">',
    '<img src="http://127.0.0.1:{port}/x.png">',
    "[click me](javascript:window.__pwned=3)",
    "![secret]({secret})",
    "@SUM(1+1)",
    "{{{{< include {secret} >}}}}",
    "$\\frac{{1}}{{2}}$ \\LaTeX \\input{{{secret}}}",
    '#read("{secret}") #eval("1+1")',
    "`code` **bold** _under_ ~~strike~~ <!-- comment -->",
    "=HYPERLINK(\"http://127.0.0.1:{port}/\",\"x\")",
    "| pipe | break",
    "&lt;b&gt; &amp; &#x3C;",
    "# heading\t- list",
    "Team" + "X" * 120,
]


def hostile(secret: str, port: int) -> list[str]:
    """The catalogue with the secret file's path and the server's port filled in."""
    return [h.format(secret=secret, port=port) for h in HOSTILE]


def shown(text: str) -> str:
    """Text as a reader sees it: invisible break opportunities removed, runs of white space as one space."""
    return " ".join(text.replace("\u200b", "").split())


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in {"style", "script"}

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in {"style", "script"} and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(path: Path) -> str:
    """The text of a page as a reader sees it."""
    p = _Text()
    p.feed(path.read_text(encoding="utf-8"))
    return shown(" ".join(p.parts))


def not_shown_literally(page: Path, strings: list[str]) -> list[str]:
    """The strings whose text a reader of ``page`` does not see exactly as written (empty = all shown)."""
    text = html_text(page)
    return [h for h in strings if shown(h) not in text]
