"""The Quarto path's wiring, checked with a stand-in ``quarto`` command.

Quarto itself cannot be installed on this project's build machines (see the
architecture note), so ``test_publish.py::test_quarto_renderer`` skips here.
These tests put a small fake ``quarto`` on PATH that records how it was called
and what project it was given, then writes placeholder outputs. They check the
part that is ours: the staging project (chapters, figures, ``_quarto.yml`` with
execution off and the board marking), the single-file HTML document, and where
the results are copied. They do not (cannot) check Quarto's own rendering.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml
from publish_toy import toy_report  # noqa: F401  (fixture)

from safeguarding.publish import PublishError, publish

FAKE_QUARTO = r'''#!{python}
"""Stand-in for the quarto CLI: record the call, check the project, write placeholder outputs."""
import json, os, sys
from pathlib import Path
import yaml

log = Path(os.environ["FAKE_QUARTO_LOG"])
args = sys.argv[1:]
cwd = Path.cwd()
entry = {{"args": args, "cwd": str(cwd)}}
if os.environ.get("FAKE_QUARTO_FAIL"):
    sys.stderr.write("ERROR: something Quarto did not like\n")
    sys.exit(1)
if args[:2] == ["render", "."]:
    cfg = yaml.safe_load((cwd / "_quarto.yml").read_text(encoding="utf-8"))
    entry["config"] = cfg
    entry["missing"] = [c for c in cfg["book"]["chapters"] if not (cwd / c).exists()]
    entry["files"] = sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*") if p.is_file())
    out = cwd / cfg["project"]["output-dir"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "book.pdf").write_bytes(b"%PDF-1.7 fake quarto book")
else:
    doc = cwd / args[1]
    text = doc.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    entry["front"] = front
    entry["body_chars"] = len(text)
    entry["media"] = sorted(p.name for p in (cwd / "media").glob("*")) if (cwd / "media").exists() else []
    doc.with_suffix(".html").write_text("<html><body>fake quarto page</body></html>", encoding="utf-8")
with log.open("a", encoding="utf-8") as fh:
    fh.write(json.dumps(entry, default=str) + "\n")
'''


@pytest.fixture
def fake_quarto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the stand-in ``quarto`` first on PATH; return the file it logs its calls to."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "quarto"
    exe.write_text(FAKE_QUARTO.format(python=sys.executable), encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    log = tmp_path / "quarto-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_QUARTO_LOG", str(log))
    return log


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("audience", ["public", "board"])
def test_quarto_path_stages_the_book_and_a_single_page(tmp_path: Path, fake_quarto: Path, toy_report,  # noqa: F811
                                                       audience: str) -> None:
    out = tmp_path / "out"
    result = publish(toy_report.build, out, quarto_yml=toy_report.quarto_yml, renderer="auto",
                     audience=audience, metadata_overrides={"subtitle": "Toyshire 2023-24"})
    assert result.renderer == "quarto"            # auto picks Quarto when it is on PATH
    assert result.pdf == out / "annual-review.pdf" and result.pdf.read_bytes().startswith(b"%PDF")
    assert "fake quarto page" in result.html.read_text(encoding="utf-8")

    book, single = _calls(fake_quarto)
    assert book["args"] == ["render", ".", "--to", "typst"]
    cfg = book["config"]
    assert cfg["project"]["type"] == "book"
    assert cfg["execute"]["enabled"] is False     # executed notebooks are never re-run
    assert cfg["book"]["subtitle"] == "Toyshire 2023-24"
    assert book["missing"] == []                  # every chapter was staged next to _quarto.yml
    chapters = [c for c in cfg["book"]["chapters"] if c.endswith(".ipynb")]
    assert chapters and all(c in book["files"] for c in chapters)
    header = ((cfg.get("format") or {}).get("typst") or {}).get("include-in-header")
    if audience == "board":
        assert "OFFICIAL-SENSITIVE" in header["text"]
    else:
        assert header is None

    assert single["args"] == ["render", "annual-review.qmd", "--to", "html"]
    front = single["front"]
    assert front["format"]["html"]["embed-resources"] is True   # one self-contained file
    assert front["lang"] == "en-GB"
    assert single["body_chars"] > 1000
    assert single["media"], "the chart images are staged for embedding"
    marking = (front["format"]["html"].get("include-before-body") or {}).get("text", "")
    assert ("OFFICIAL-SENSITIVE" in marking) == (audience == "board")


def test_quarto_failure_is_a_publish_error(tmp_path: Path, fake_quarto: Path, toy_report,  # noqa: F811
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_QUARTO_FAIL", "1")
    with pytest.raises(PublishError, match="something Quarto did not like"):
        publish(toy_report.build, tmp_path / "out", quarto_yml=toy_report.quarto_yml, renderer="quarto")
    assert not (tmp_path / "out" / "annual-review.pdf").exists()


def test_staged_config_is_the_projects_own(project: Path) -> None:
    """The project's _quarto.yml, staged for Quarto, keeps its book, typst A4 and embedded HTML settings."""
    from safeguarding.publish.quarto import staged_quarto_yml
    from safeguarding.publish.quarto_config import load_quarto_config

    staged = staged_quarto_yml(load_quarto_config(project / "_quarto.yml"), "public", None)
    original = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    assert staged["book"]["chapters"] == original["book"]["chapters"]
    assert staged["format"]["typst"]["papersize"] == "a4"
    assert staged["format"]["html"]["embed-resources"] is True
    assert staged["execute"] == {"enabled": False, "echo": False}
