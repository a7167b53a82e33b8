"""Fingerprint of what the demo build publishes, so that a change to the code that should change no figure is
shown to change none (issue 18: "the published demo outputs are byte-identical before and after").

Every published file is hashed byte for byte, except that embedded chart images are replaced by one placeholder
(their pixels depend on the installed matplotlib and FreeType, not on this project's code; the
charts' data, titles and text alternatives stay in the hash) and the PDF and ``review.json``, which record when
they were built, are left out, as is the accessibility statement, which is dated the day it was written. The
processed indicator tables are hashed by content (CSV text), not by their Parquet bytes, which name the Arrow
version that wrote them.

When a change is meant to change what is published, rebuild and rewrite the committed fingerprint in the same
commit, so the diff names the files that changed::

    python tests/fingerprint.py --build FOLDER            # build the demo (both audiences) into FOLDER, compare
    python tests/fingerprint.py --build FOLDER --update   # ... and rewrite the committed fingerprint
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import pandas as pd

FINGERPRINT = Path(__file__).resolve().parent / "fixtures" / "published_fingerprint.json"
_IMAGE = re.compile(rb'src="data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+"')
PROCESSED = ("indicators.parquet", "indicators_public.parquet", "indicators_board.parquet")
SKIPPED = (".pdf", "review.json", "accessibility.html")


def without_images(page: bytes) -> bytes:
    """A web page with every embedded chart image replaced by one placeholder (see the module docstring)."""
    return _IMAGE.sub(b'src="data:image"', page)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of the published files under ``root/reports`` and the processed tables."""
    out: dict[str, str] = {}
    reports = root / "reports"
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        rel = path.relative_to(reports).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or rel.endswith(SKIPPED):  # locks, staging
            continue
        data = path.read_bytes()
        if path.suffix == ".html":
            data = without_images(data)
        out[f"reports/{rel}"] = _digest(data)
    for name in PROCESSED:
        table = pd.read_parquet(root / "processed" / name)
        out[f"processed/{name}"] = _digest(table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return out


def build_demo(folder: Path) -> None:
    """Build the demo council's review for both audiences into ``folder``, as the end-to-end tests do."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    # this checkout's package, not whichever one is installed (an editable install of another checkout would
    # otherwise build the demo with that checkout's code)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from e2e import demo_config_copy

    from safeguarding.build import build

    folder.mkdir(parents=True, exist_ok=True)
    cfg = demo_config_copy(folder)
    for audience in ("public", "board"):
        build(cfg, audience=audience, renderer="builtin", echo=lambda _m: None)


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """One line per file that was added, removed or changed."""
    lines = [f"changed: {k}" for k in sorted(expected.keys() & actual.keys()) if expected[k] != actual[k]]
    lines += [f"no longer published: {k}" for k in sorted(expected.keys() - actual.keys())]
    lines += [f"newly published: {k}" for k in sorted(actual.keys() - expected.keys())]
    return lines


def main(argv: list[str] | None = None) -> int:
    """``--update FOLDER``: write the fingerprint of a build; ``FOLDER``: compare one with the committed one."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--update", action="store_true", help="rewrite the committed fingerprint from FOLDER")
    ap.add_argument("--build", action="store_true", help="first build the demo into FOLDER (an empty folder)")
    args = ap.parse_args(argv)
    if args.build:
        build_demo(args.folder)
    actual = fingerprint(args.folder)
    if args.update:
        FINGERPRINT.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {FINGERPRINT} ({len(actual)} files)")
        return 0
    diff = differences(json.loads(FINGERPRINT.read_text(encoding="utf-8")), actual)
    print("\n".join(diff) or "identical")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
