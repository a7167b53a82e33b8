"""Markdown fragments the chapter notebooks display.

Both publishers (Quarto and the built-in pandoc + typst path) read the same
Markdown: pipe tables with a ``: caption {#tbl-id}`` line, and figures as
``![caption](figures/x.png){#fig-id fig-alt="..."}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from safeguarding import escape

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """A label-safe identifier from text."""
    return _SLUG.sub("-", text.lower()).strip("-")[:60] or "x"


def escape_cell(value: object) -> str:
    """A value shown literally in a Markdown table cell (:func:`safeguarding.escape.markdown`)."""
    return escape.markdown(value).strip()


def md_table(df: pd.DataFrame, caption: str | None = None, label: str | None = None,
             align: Iterable[str] | None = None, widths: Iterable[int] | None = None) -> str:
    """A pipe table; numeric-looking columns right-aligned unless ``align`` says otherwise.

    ``widths`` (relative, e.g. ``[1, 2, 5]``) sets column widths: pandoc reads
    them from the number of dashes in the separator line of a long table.
    Every header, cell and the caption are plain text: they are escaped here
    and show literally, whatever characters they hold.
    """
    cols = [str(c) for c in df.columns]
    if align is None:
        align = ["l"] + ["r"] * (len(cols) - 1)
    # without widths, short separators let pandoc size the columns to their content
    scale = 8 if widths is not None else 0
    widths = list(widths) if widths is not None else [1] * len(cols)

    def mark(a: str, w: int) -> str:
        dashes = "-" * max(3, scale * w)
        return {"l": ":" + dashes, "r": dashes + ":", "c": ":" + dashes + ":"}[a]

    lines = ["| " + " | ".join(escape_cell(c) for c in cols) + " |",
             "| " + " | ".join(mark(a, w) for a, w in zip(align, widths, strict=True)) + " |"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(escape_cell(v) for v in row) + " |")
    out = "\n".join(lines)
    if caption:
        ident = f" {{#tbl-{slug(label or caption)}}}" if label is not False else ""
        out += f"\n\n: {escape.markdown(caption)}{ident}"
    return out + "\n"


def md_figure(path: str, caption: str, alt: str, label: str) -> str:
    """A figure with caption, alt text and a cross-reference label.

    ``caption`` and ``alt`` are plain text (escaped here); ``path`` is a file the
    build wrote, relative to the build folder.
    """
    return (f"![{escape.markdown(caption)}]({path})"
            f"{{#fig-{slug(label)} fig-alt={escape.attribute(alt)}}}\n")


@dataclass
class Block:
    """Markdown that a notebook cell shows as its output (``text/markdown``)."""

    parts: list[str] = field(default_factory=list)

    def add(self, text: str) -> Block:
        """Append Markdown the project wrote (a table, a figure, fixed wording); never data values as such."""
        if text:
            self.parts.append(text.strip() + "\n")
        return self

    def text(self, sentence: str) -> Block:
        """Append a paragraph of plain text (it may hold values from the data): shown literally."""
        return self.add(escape.markdown(sentence))

    def bullets(self, items: Iterable[str]) -> Block:
        """Append a bulleted list of plain-text items, each shown literally."""
        lines = [f"- {escape.markdown(item)}" for item in items if str(item).strip()]
        return self.add("\n".join(lines))

    def heading(self, text: str, level: int = 2) -> Block:
        """Append a heading of plain text."""
        return self.add("#" * level + " " + escape.markdown(text))

    @property
    def markdown(self) -> str:
        """The whole block as Markdown."""
        return "\n".join(self.parts)

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __str__(self) -> str:
        return self.markdown
