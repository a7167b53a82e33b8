"""Everything from data is text: one escaping function per output format.

Values that come from input files (team names, sector labels, council and
region names, file names in the ingest report) and from the configuration
(the area's name) are *plain text*. They never reach a page as markup:

- :func:`markdown` makes plain text into pandoc Markdown that renders as the
  same characters (every ASCII punctuation mark backslash-escaped, so no tag,
  link, image, citation, shortcode, emphasis, list or heading can start);
- :func:`html` escapes text for HTML element content and attribute values;
- :func:`typst` quotes text as a Typst string literal;
- :func:`attribute` quotes text for a pandoc attribute value (``alt="..."``);
- :func:`xml` escapes text for XML element content or attribute values (the sitemap);
- charts draw text with Matplotlib's math parsing switched off
  (:func:`safeguarding.charts.apply_house_style`), so ``$...$`` is drawn as
  written.

All of them first pass the text through :func:`plain`: control characters
(NUL and the rest) are removed, line breaks and tabs become spaces, and a very
long unbroken word gets invisible break opportunities so it cannot push a table
off the page.

Pandoc is also run with raw HTML, raw TeX and citations switched off and a
filter that refuses any image or link pointing outside the build
(:mod:`safeguarding.publish.builtin`), so a value that somehow escaped
escaping still cannot fetch or embed anything.
"""

from __future__ import annotations

import html as _html
import math
import re

__all__ = ["LONG_WORD", "MARKDOWN_ESCAPED", "attribute", "html", "markdown", "plain", "typst", "unescape_markdown",
           "xml"]

#: Words longer than this get a zero-width space every ``LONG_WORD`` characters.
LONG_WORD = 30
ZWSP = "\u200b"

_CONTROL = {c: None for c in range(0x20) if chr(c) not in "\t\n\r"} | {0x7F: None}
#: bidirectional embeddings, overrides and isolates, which can make text read differently from what it is
_BIDI = {c: None for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_SPACE = re.compile(r"[\t\n\r\u2028\u2029\x0b\x0c]+")
_LONG = re.compile(rf"\S{{{LONG_WORD + 1},}}")
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
#: a backslash-escaped ASCII punctuation mark in pandoc Markdown (group 1: the mark)
MARKDOWN_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def _break_long(match: re.Match[str]) -> str:
    word = match.group(0)
    return ZWSP.join(word[i:i + LONG_WORD] for i in range(0, len(word), LONG_WORD))


def plain(value: object, *, breakable: bool = True) -> str:
    """Text as it may appear anywhere: no control characters, one line, long words breakable.

    ``None`` and NaN become the empty string. ``breakable=False`` leaves long
    words whole (file names, alt text read aloud). Line breaks and tabs become single
    spaces; other control characters (``\\x00`` ...) and the bidirectional
    controls that make text display in another order are removed.
    """
    text = _text(value).translate(_CONTROL)
    text = text.translate(_BIDI)
    text = _SPACE.sub(" ", text)
    return _LONG.sub(_break_long, text) if breakable else text


def markdown(value: object) -> str:
    """Plain text as pandoc Markdown that renders as exactly the same characters.

    Every ASCII punctuation character is backslash-escaped (pandoc's
    ``all_symbols_escapable``), so ``<img ...>``, ``[x](javascript:...)``,
    ``@SUM(1+1)``, ``{{< shortcode >}}``, ``$x$``, ``\\LaTeX``, ``*``, ``#`` and
    ``|`` are all shown literally, in a sentence or a table cell.
    """
    return _MD_SPECIAL.sub(r"\\\1", plain(value))


def unescape_markdown(text: str) -> str:
    """Undo :func:`markdown`'s backslash escapes (for captions that leave pandoc's hands, e.g. Typst strings)."""
    return MARKDOWN_ESCAPED.sub(r"\1", text)


def html(value: object, *, breakable: bool = True) -> str:
    """Plain text escaped for HTML element content or a double- or single-quoted attribute.

    ``breakable=False`` leaves long words whole: for an address in ``href``, which an
    invisible break opportunity would change.
    """
    return _html.escape(plain(value, breakable=breakable), quote=True)


def typst(value: object, *, breakable: bool = True) -> str:
    """Plain text as a Typst string literal (``"..."``), usable wherever Typst takes content or a path."""
    text = plain(value, breakable=breakable)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def attribute(value: object) -> str:
    """Plain text as a quoted pandoc attribute value (``alt="..."``), backslash and quote escaped."""
    return '"' + plain(value, breakable=False).replace("\\", "\\\\").replace('"', '\\"') + '"'


#: characters XML 1.0 does not allow anywhere (surrogates and U+FFFE, U+FFFF), even escaped
_XML_INVALID = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml(value: object) -> str:
    """Plain text escaped for XML element content or a double- or single-quoted attribute value.

    ``&``, ``<``, ``>``, ``"`` and ``'`` become entity references; long words are
    left whole (an address must not gain invisible characters), and characters
    XML 1.0 forbids are removed.
    """
    text = _XML_INVALID.sub("", plain(value, breakable=False))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))
