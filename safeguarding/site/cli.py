"""``pipeline.py site``: its options, the run, and ``--check`` (every page in Chromium with axe)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from safeguarding.config import ConfigError, load_config
from safeguarding.lock import LockedError, build_lock
from safeguarding.site.record import HTML_NAME, INDEX_NAME, STATEMENT_NAME
from safeguarding.site.writer import SiteError, SiteResult, write_site


def check_site(result: SiteResult) -> list[str]:
    """Open every page of the site in headless Chromium as a reader would; return the problems (empty = fine).

    The index, the statement and each listed year's review, at 390 and 1280 px: axe-core (no serious
    or critical violation), images and headings, no request outside the page
    (:func:`~safeguarding.publish.checks.check_html_in_browser`), and no sideways scrolling
    (:func:`~safeguarding.publish.checks.check_layout_in_browser`). Raises
    :class:`~safeguarding.publish.checks.ToolMissingError` without Chromium.
    """
    from safeguarding.publish.checks import LAYOUT_WIDTHS, check_html_in_browser, check_layout_in_browser

    pages = [result.area_dir / INDEX_NAME, result.area_dir / STATEMENT_NAME]
    pages += [result.area_dir / f.path for e in result.years if (f := e.file(HTML_NAME)) is not None]
    problems: list[str] = []
    for page in pages:
        name = page.relative_to(result.area_dir).as_posix()
        for width in LAYOUT_WIDTHS:
            problems += [f"{name} at {width} px: {p}" for p in check_html_in_browser(page, viewport=(width, 900))]
        problems += [f"{name}: {p}" for p in check_layout_in_browser(page)]
    return problems


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py site``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for a build using the same folders to finish (default: stop)")
    parser.add_argument("--check", action="store_true",
                        help="then open every page (index, statement, each year's review) in Chromium at 390 and "
                             "1280 px: axe, layout, no outside requests; exit 1 on a problem")


def run(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Run ``pipeline.py site``: rewrite the area's index, accessibility statement and sitemap; exit status."""
    try:
        cfg = load_config(args.config)
        with build_lock([cfg.reports_dir / cfg.area_slug], wait=args.wait):  # the build's lock on the area
            result = write_site(cfg)
    except (ConfigError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SiteError, OSError) as exc:
        print(f"error: the area's site was not rewritten: {exc}", file=sys.stderr)
        return 1
    years = ", ".join(e.label for e in result.years) or "none yet"
    echo(f"Wrote {', '.join(p.name for p in result.written)} in {result.area_dir} (years: {years})")
    for w in result.warnings:
        echo(f"warning: {w}")
    if not getattr(args, "check", False):
        return 0
    from safeguarding.publish.checks import ToolMissingError

    try:
        problems = check_site(result)
    except ToolMissingError as exc:
        print(f"error: cannot check the pages: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        echo(f"problem: {problem}")
    echo(f"Checked in Chromium at 390 and 1280 px: {len(problems)} problem(s)")
    return 1 if problems else 0
