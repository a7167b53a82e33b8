"""The checking machinery: :class:`Problem`, the small helpers (usable on their own) and the checker
that collects problems while walking the file, with one method per shape of value."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeguarding.config_schema.keys import OUTPUT_DEFAULTS, SLUG_MAX, SLUG_PATTERN, YEAR_MAX, YEAR_MIN, YEAR_RULE


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: where (``key``) and what, with the fix."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def slugify(text: str) -> str:
    """A valid slug made from ``text`` (``Northwold (demo)`` -> ``northwold-demo``); ``area`` if none."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out[:SLUG_MAX].rstrip("-") or "area"


def is_slug(value: object) -> bool:
    """True when ``value`` is a safe publishing folder name (:data:`SLUG_PATTERN`, at most :data:`SLUG_MAX`)."""
    return isinstance(value, str) and len(value) <= SLUG_MAX and SLUG_PATTERN.fullmatch(value) is not None


def whole_number(value: object) -> int | None:
    """``value`` as an int when it is a whole number (``2025``, ``2025.0``, ``"2025"``), else None.

    True/False are not numbers here, and ``2025.9`` is not whole.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,6}\s*", value):
        return int(value)
    return None


def suggestion(name: object, valid: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt ``name`` (difflib), or None when nothing is close."""
    valid = list(valid)
    lowered = {v.lower(): v for v in valid}
    found = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def describe(value: object) -> str:
    """How a value reads to an analyst: ``the text '2024-25'``, ``the number 2025.9``, ``a list``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (yes/no)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, Mapping):
        return "a mapping (key: value lines)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime):
        return f"the date and time {value.isoformat()}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__}"


def inside_folder(root: Path, value: str) -> bool:
    """True when the path ``value`` (relative to ``root``) names a folder strictly inside ``root``.

    ``..`` is resolved by name first; a path that leaves ``root`` that way is
    outside even if a symbolic link would bring it back. An absolute path
    counts as inside when it is inside ``root`` either as written or once
    symbolic links are resolved (``root`` itself is resolved).
    """
    p = Path(os.path.expanduser(value))
    full = p if p.is_absolute() else root / p
    candidates = [Path(os.path.normpath(full))]
    if p.is_absolute():
        try:
            candidates.append(full.resolve())
        except (OSError, RuntimeError, ValueError):  # pragma: no cover - a symlink loop, a NUL byte
            pass
    return any(c != root and c.is_relative_to(root) for c in candidates)


class _Checker:
    """Collects :class:`Problem` s while walking the file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    # -- shapes ------------------------------------------------------------

    def mapping(self, value: Any, key: str, example: str, keys: tuple[str, ...] | None = None,
                what: str = "setting") -> dict[str, Any] | None:
        """The mapping at ``key`` ({} when empty), or None (problem recorded) when it is something else.

        With ``keys``, every key of the mapping not among them is reported too (:meth:`known_keys`).
        """
        if value is None:
            return {}
        if isinstance(value, dict):
            if keys is not None:
                self.known_keys(value, key, keys, what)
            return value
        self.add(key, f"must be a mapping of settings, not {describe(value)}; write it as {example}")
        return None

    def known_keys(self, section: Mapping[Any, Any], key: str, valid: tuple[str, ...], what: str = "setting",
                   ) -> None:
        """Report every key of ``section`` not in ``valid``, with a suggestion and the valid keys."""
        for name in section:
            if name in valid:
                continue
            near = suggestion(name, valid)
            hint = f" (did you mean {near!r}?)" if near else ""
            where = f"{key}.{name}" if key else str(name)
            self.add(where, f"unknown {what}{hint}; valid: {', '.join(valid)}")

    # -- scalars -----------------------------------------------------------

    def text(self, value: Any, key: str, what: str, *, blank_ok: bool = False) -> str | None:
        if isinstance(value, str) and (blank_ok or value.strip()):
            return value
        if isinstance(value, str):
            self.add(key, f"is blank; give {what}, or remove the line")
        else:
            self.add(key, f"must be {what} (text), not {describe(value)}")
        return None

    def choice(self, value: Any, key: str, valid: tuple[str, ...], *,
               normalise: Callable[[str], str] = lambda s: s) -> str | None:
        if isinstance(value, str) and normalise(value) in valid:
            return normalise(value)
        near = suggestion(value, valid) if isinstance(value, str) else None
        hint = f" (did you mean {near!r}?)" if near else ""
        self.add(key, f"must be one of {', '.join(valid)}, not {describe(value)}{hint}")
        return None

    def whole(self, value: Any, key: str, lo: int, what: str) -> int | None:
        """A whole number (int, not text) from ``lo``."""
        if isinstance(value, int) and not isinstance(value, bool) and value >= lo:
            return value
        fix = ""
        if isinstance(value, str) and whole_number(value) is not None:
            fix = f"; write {key.rsplit('.', 1)[-1]}: {value.strip()} without quotes"
        self.add(key, f"must be a whole number from {lo} ({what}), not {describe(value)}{fix}")
        return None

    def year(self, value: Any, key: str) -> int | None:
        n = whole_number(value)
        if n is not None and YEAR_MIN <= n <= YEAR_MAX:
            return n
        fix = ""
        m = re.fullmatch(r"\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*", value) if isinstance(value, str) else None
        if m:
            fix = f"; for {m.group(1)}-{m.group(2)[-2:]} write {key.rsplit('.', 1)[-1]}: {int(m.group(1)) + 1}"
        elif n is not None:
            fix = f" (it must be from {YEAR_MIN} to {YEAR_MAX})"
        self.add(key, f"{YEAR_RULE}, not {describe(value)}{fix}")
        return None

    def number(self, value: Any, key: str, what: str, *, positive: bool = False) -> float | None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and (not positive or value > 0):
            return float(value)
        kind = "a positive number" if positive else "a number"
        self.add(key, f"must be {kind} ({what}), not {describe(value)}")
        return None

    def sheet(self, value: Any, key: str) -> None:
        if isinstance(value, str) and value.strip():
            return
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return
        self.add(key, f"must be the sheet's name or its 1-based number, not {describe(value)}")

    def date(self, value: Any, key: str) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.add(key, f"must be a date written YYYY-MM-DD, not {describe(value)}")
        return None

    def input_path(self, value: Any, key: str) -> None:
        self.text(value, key, "a file or folder path, relative to report.yml")

    def output_folder(self, value: Any, key: str) -> None:
        if self.text(value, key, "a folder path, relative to report.yml") is None:
            return
        if not inside_folder(self.root, value):
            default = OUTPUT_DEFAULTS.get(key.rsplit(".", 1)[-1], "output")
            self.add(key, f"{value!r} is not a folder inside the project folder {self.root} (the folder "
                          f"holding report.yml); the pipeline writes to and clears this folder, so it must "
                          f"stay inside the project: use a relative path without '..', e.g. {default!r}")
