"""Authored Markdown: parsed by pandoc, checked (no raw HTML, images or unsafe links) and written back escaped."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

from safeguarding import escape

# --------------------------------------------------------------------------
# authored Markdown
# --------------------------------------------------------------------------

#: web and e-mail addresses only: a link elsewhere keeps its words and loses the link
_SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
#: pandoc's Markdown with everything but plain writing switched off
PANDOC_READER = "markdown" + "".join(f"-{ext}" for ext in (
    "raw_html", "raw_tex", "raw_attribute", "tex_math_dollars", "tex_math_single_backslash",
    "tex_math_double_backslash", "citations", "fenced_divs", "bracketed_spans", "native_divs", "native_spans",
    "link_attributes", "inline_code_attributes", "fenced_code_attributes", "header_attributes",
    "implicit_figures", "yaml_metadata_block", "pipe_tables", "simple_tables", "multiline_tables", "grid_tables",
    "table_captions", "markdown_in_html_blocks", "latex_macros", "pandoc_title_block", "mmd_title_block",
    "auto_identifiers", "implicit_header_references", "example_lists", "inline_notes", "footnotes", "smart"))

#: one block of pandoc's JSON syntax tree: ``{"t": its type, "c": its contents}`` (contents a string, a list
#: or nested lists, by type: see https://pandoc.org/using-the-pandoc-api.html); read and written through
#: the helpers below, which look at ``t`` before they index ``c``
PandocBlock: TypeAlias = dict[str, object]


def strip_comments(text: str) -> str:
    """``text`` without ``<!-- comments -->`` (authors' notes, never published); line numbers kept."""
    return _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def parse_markdown(text: str) -> list[PandocBlock]:
    """The blocks of pandoc's parse of ``text`` (comments removed; raw HTML, maths, shortcodes left as text).

    Raises ValueError ("line N: ...") for a comment that is never closed.
    """
    clean = strip_comments(text)
    if "<!--" in clean:
        line = clean[:clean.index("<!--")].count("\n") + 1
        raise ValueError(f"line {line}: a comment opened with <!-- is never closed; end it with -->")
    clean = clean.translate({c: None for c in range(0x20) if chr(c) not in "\t\n\r"})
    if not clean.strip():
        return []
    from safeguarding.publish.builtin import pandoc_path

    proc = subprocess.run([pandoc_path(), "--from", PANDOC_READER, "--to", "json"], input=clean,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:  # pragma: no cover - pandoc reads any text as Markdown
        raise ValueError(f"pandoc could not read the text: {proc.stderr.strip()[:200]}")
    return list(json.loads(proc.stdout)["blocks"])


def _has_image(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("t") == "Image" or _has_image(node.get("c"))
    if isinstance(node, list):
        return any(_has_image(n) for n in node)
    return False


def _content(node: dict[str, Any]) -> Any:
    """A pandoc JSON node's contents (``c``): a list, a string or a nested list, by node type."""
    return node.get("c")


def _stringify(node: Any) -> str:
    """The words of a node, as a reader would read them."""
    if isinstance(node, list):
        return "".join(_stringify(n) for n in node)
    if not isinstance(node, dict):
        return ""
    t, c = node.get("t"), _content(node)
    if t == "Str":
        return str(c)
    if t in {"Space", "SoftBreak", "LineBreak"}:
        return " "
    if t in {"Code", "Math", "RawInline"}:
        return str(c[1])
    if t in {"CodeBlock", "RawBlock"}:
        return str(c[1]) + " "
    if t == "Header":
        return _stringify(c[2]) + " "
    if t in {"Link", "Image"}:
        return _stringify(c[1])
    if t == "Quoted":
        return _stringify(c[1])
    if t in {"Para", "Plain"}:
        return _stringify(c) + " "
    return _stringify(c)


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join([first + lines[0], *((rest + ln) if ln else ln for ln in lines[1:])])


def render_blocks(blocks: Sequence[PandocBlock], top: int) -> str:
    """Blocks as Markdown whose every word is escaped; headings start at level ``top`` (at most 6)."""
    headings = [b["c"][0] for b in _walk_blocks(blocks) if b.get("t") == "Header"]
    shift = top - min(headings) if headings else 0
    return "\n\n".join(s for s in (_block(b, shift) for b in blocks) if s.strip())


def _walk_blocks(blocks: Sequence[object]) -> Iterable[dict[str, Any]]:
    for b in blocks:
        if not isinstance(b, dict):
            continue
        yield b
        t, c = b.get("t"), _content(b)
        if t == "BlockQuote":
            yield from _walk_blocks(c)
        elif t == "BulletList":
            for item in c:
                yield from _walk_blocks(item)
        elif t == "OrderedList":
            for item in c[1]:
                yield from _walk_blocks(item)


def _block(b: dict[str, Any], shift: int) -> str:
    t, c = b.get("t"), _content(b)
    if t in {"Para", "Plain"}:
        return _inlines(c)
    if t == "Header":
        level = max(1, min(6, c[0] + shift))
        return "#" * level + " " + _inlines(c[2]).replace("\n", " ") + " {.unnumbered}"
    if t == "BulletList":
        return "\n".join(_indent(_blocks(item, shift), "- ", "  ") for item in c)
    if t == "OrderedList":
        start = c[0][0]
        return "\n".join(_indent(_blocks(item, shift), f"{start + i}. ", "   ") for i, item in enumerate(c[1]))
    if t == "BlockQuote":
        return _indent(_blocks(c, shift), "> ", "> ")
    if t == "HorizontalRule":
        return "* * *"
    if t == "LineBlock":
        return "\\\n".join(_inlines(line) for line in c)
    if t in {"CodeBlock", "RawBlock"}:
        return "\\\n".join(escape.markdown(line) for line in str(c[1]).split("\n"))
    return escape.markdown(_stringify(b)).strip()  # anything else: its words, as text


def _blocks(blocks: list[Any], shift: int) -> str:
    return "\n\n".join(_block(b, shift) for b in blocks)


def _inlines(items: list[Any]) -> str:
    return "".join(_inline(i) for i in items)


def _inline(i: dict[str, Any]) -> str:
    t, c = i.get("t"), _content(i)
    if t == "Str":
        return escape.markdown(c)
    if t == "Space":
        return " "
    if t == "SoftBreak":
        return "\n"
    if t == "LineBreak":
        return "\\\n"
    if t == "Emph":
        return f"*{_inlines(c)}*"
    if t == "Strong":
        return f"**{_inlines(c)}**"
    if t == "Strikeout":
        return f"~~{_inlines(c)}~~"
    if t == "Quoted":
        inner = _inlines(c[1])
        return f"‘{inner}’" if c[0].get("t") == "SingleQuote" else f"“{inner}”"
    if t == "Link":
        words = _inlines(c[1])
        url = str(c[2][0]).strip()
        if not _SAFE_LINK.match(url):
            return words
        safe = urllib.parse.quote(url, safe=":/?#@!$&'*+,;=%~-._")
        return f"[{words}]({safe})"
    if t in {"Span", "Cite"}:
        return _inlines(c[1])
    if t in {"Underline", "SmallCaps", "Superscript", "Subscript"}:
        return _inlines(c)
    if t in {"Code", "Math", "RawInline"}:
        return escape.markdown(c[1])
    if t == "Note":
        return " (" + escape.markdown(_stringify(c)).strip() + ")"
    return escape.markdown(_stringify(i))  # an image never gets here: load_editorial refuses it
