"""What the check finds: one :class:`Finding`, each input's and each return's check with the ``report.yml``
snippets that fix it, the whole :class:`CheckResult`, and what is never printed (:func:`looks_like_value`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypedDict

from safeguarding.config import Config
from safeguarding.scaffold import yaml_text
from safeguarding.settings_inputs import InputSpec

#: Indentation of ``inputs.<table>.<section>`` entries in a report.yml laid out like the demo.
INDENT = {"table": 2, "section": 4, "entry": 6, "code": 8}

#: Text that looks like a value rather than a name: a run of four or more digits, or a date.
_VALUE_LIKE = re.compile(r"\d{4,}|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}\s*[a-z]{3,9}\s*\d{2,4}", re.I)


def looks_like_value(text: str) -> bool:
    """True when ``text`` looks like an identifier or a date (so it is never printed)."""
    return bool(_VALUE_LIKE.search(str(text)))


@dataclass
class Finding:
    """One thing the check found in one input.

    ``kind`` is one of ``unreadable``, ``configured_absent``, ``missing_required``,
    ``bad_code_setting``, ``unknown_code``, ``hidden_codes``, ``unmapped_header``,
    ``personal_header``, ``missing_optional``, ``warning``. ``blocking`` findings
    stop the table (the ingest would not build it).
    """

    kind: str
    blocking: bool
    message: str
    key: str | None = None
    column: str | None = None
    header: str | None = None
    value: str | None = None
    count: int | None = None
    suggestion: str | None = None


class SuggestedSettings(TypedDict, total=False):
    """The settings :meth:`InputCheck.settings` suggests for one input (those with none left out)."""

    columns: dict[str, str]
    codes: dict[str, dict[str, str]]


@dataclass
class InputCheck:
    """The check of one ``inputs.<table>``: what was read, what was found and the settings that fix it."""

    table: str
    file: str
    spec: InputSpec
    fmt: str = ""
    sheet: str | None = None
    header_row: int | None = None
    header_detected: bool = False
    encoding: str | None = None
    rows: int = 0
    mapped: dict[str, str] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    #: the row read as the header holds values that look like identifiers or dates (so no header is printed)
    suspect_header: bool = False
    findings: list[Finding] = field(default_factory=list)
    #: canonical column -> source header to set under ``columns`` (``replace``: the column is configured already)
    columns: dict[str, str] = field(default_factory=dict)
    replace: set[str] = field(default_factory=set)
    #: optional columns that an unmapped header probably holds (offered commented out)
    guesses: dict[str, str] = field(default_factory=dict)
    #: coded column -> {source value: code} to set under ``codes``
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    code_labels: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``inputs.<table>``."""
        return f"inputs.{self.table}"

    @property
    def blocking(self) -> list[Finding]:
        """Findings that stop this table from being built."""
        return [f for f in self.findings if f.blocking]

    def of(self, *kinds: str) -> list[Finding]:
        """Findings of the given kinds, in order."""
        return [f for f in self.findings if f.kind in kinds]

    def snippets(self) -> list[tuple[str, str]]:
        """``(where, text)`` pairs: where in report.yml to paste, and the YAML lines (indented as in the demo).

        Parent keys that the input does not have yet (``columns:``, ``codes:``,
        ``codes.<column>:``) are included in the text, and ``where`` names the
        deepest key that exists.
        """
        out: list[tuple[str, str]] = []
        pad = {k: " " * v for k, v in INDENT.items()}
        if self.columns or self.guesses:
            lines = []
            has_section = self.spec.columns is not None  # written, perhaps set to nothing
            if not has_section:
                lines.append(f"{pad['section']}columns:")
            for canon, header in self.columns.items():
                note = "  # replaces the line already there" if canon in self.replace else ""
                lines.append(f"{pad['entry']}{canon}: {yaml_text(header)}{note}")
            for canon, header in self.guesses.items():
                lines.append(f"{pad['entry']}# {canon}: {yaml_text(header)}  # optional: uncomment to read it")
            where = f"{self.key}.columns" if has_section else self.key
            if any(c in self.replace for c in self.columns):
                where += " (replace the existing line of each column marked)"
            out.append((where, "\n".join(lines)))
        codes_spec = self.spec.codes  # None: no codes key written
        if self.codes:
            lines = []
            if codes_spec is None:
                lines.append(f"{pad['section']}codes:")
                where = self.key
            else:
                where = f"{self.key}.codes"
            for column, values in self.codes.items():
                has_column = codes_spec is not None and column in codes_spec
                if not has_column:
                    lines.append(f"{pad['entry']}{column}:")
                for value, code in values.items():
                    label = self.code_labels.get((column, value), "")
                    lines.append(f"{pad['code']}{yaml_text(value)}: {yaml_text(code)}"
                                 + (f"  # {label}" if label else ""))
                if has_column:  # one existing column: name it exactly
                    out.append((f"{self.key}.codes.{column}", "\n".join(lines)))
                    lines = []
            if lines:
                out.append((where, "\n".join(lines)))
        return out

    def settings(self) -> SuggestedSettings:
        """The suggested settings as data: ``{"columns": {...}, "codes": {column: {value: code}}}``."""
        out: SuggestedSettings = {}
        if self.columns:
            out["columns"] = dict(self.columns)
        if self.codes:
            out["codes"] = {c: dict(v) for c, v in self.codes.items()}
        return out


@dataclass
class AggregateCheck:
    """The check of one ``aggregates`` entry (partners' counts: no child-level data)."""

    index: int
    file: str
    figures: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: int = 0
    unread: bool = False

    @property
    def key(self) -> str:
        """``aggregates[i]``."""
        return f"aggregates[{self.index}]"


@dataclass
class CheckResult:
    """Everything :func:`check_inputs` found."""

    config: Config
    inputs: list[InputCheck]
    aggregates: list[AggregateCheck] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        """True when at least one table or aggregate return could not be built."""
        return any(i.blocking for i in self.inputs) or any(a.unread for a in self.aggregates)

    @property
    def unknown_values(self) -> int:
        """Number of distinct coded values not recognised (all inputs)."""
        return sum(len(i.of("unknown_code", "hidden_codes")) for i in self.inputs)

    def exit_status(self, *, strict: bool = False) -> int:
        """0 when nothing blocks a build; 1 when something does (``strict``: or values are not recognised)."""
        return 1 if self.blocking or (strict and self.unknown_values) else 0

    def settings(self) -> dict[str, SuggestedSettings]:
        """Every suggested setting, ``{table: {"columns": {...}, "codes": {...}}}`` (tables with none left out)."""
        return {i.table: s for i in self.inputs if (s := i.settings())}


def _shown(chk: InputCheck, header: str, position: int) -> str:
    """A header as printed: blank headers, and every header of a row that looks like data, are described."""
    if not str(header).strip():
        return f"(blank header, column {position + 1})"
    if chk.suspect_header:
        return f"(column {position + 1}: not shown, the header row looks like data)"
    return yaml_text(header)
