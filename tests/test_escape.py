"""Everything from data is text: hostile strings through every Markdown helper and the real publisher.

Before the fix, table cells escaped only ``|`` and newlines and sentences not
at all: ``<img src=x onerror=...>`` ran script, ``<img src="/a/local/file">``
embedded the file, ``[x](javascript:...)`` became a live link and
``@SUM(1+1)`` stopped the PDF as an unknown citation.
"""

from __future__ import annotations

import base64
import http.server
import threading
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest
from hostile import hostile, html_text, not_shown_literally, shown
from nbformat.v4 import new_markdown_cell, new_notebook, new_output

from safeguarding import charts, escape
from safeguarding.publish.builtin import publish_builtin
from safeguarding.publish.checks import safety_problems
from safeguarding.publish.notebook_md import PublishError
from safeguarding.publish.quarto_config import load_quarto_config
from safeguarding.report.markdown import Block, md_figure, md_table

matplotlib.use("Agg")

QUARTO_YML = """\
book:
  title: "Hostile <img src=x onerror=alert(1)> review"
  author: "@SUM(1+1) partnership"
  chapters:
    - 01-hostile.ipynb
lang: en-GB
"""


@pytest.fixture(scope="module")
def server():
    """A local web server that must never be asked for anything."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], hits
    httpd.shutdown()


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    """A file outside the build whose content must never reach a page."""
    path = tmp_path_factory.mktemp("outside") / "pseudonym.key"
    path.write_text("SECRET-KEY-MATERIAL-0123456789", encoding="utf-8")
    return path


def test_plain_removes_control_characters_and_breaks_long_words():
    assert escape.plain("East\x00Locality\r\nTeam\tA") == "EastLocality Team A"
    assert escape.plain("a\u202eb") == "ab"  # a right-to-left override would show the text reversed
    long = escape.plain("x" * 75)
    assert long.replace(escape.ZWSP, "") == "x" * 75 and long.count(escape.ZWSP) == 2
    assert escape.plain(None) == "" and escape.plain(float("nan")) == ""


def test_every_ascii_punctuation_mark_is_escaped_for_markdown():
    punctuation = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())
    out = escape.markdown(punctuation).replace(escape.ZWSP, "")  # 32 characters: one break opportunity
    assert out == "".join("\\" + ch for ch in punctuation)
    assert escape.unescape_markdown(out) == punctuation


def test_html_typst_and_attribute_quoting():
    assert escape.html('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert escape.typst('say "hi" \\ #x') == '"say \\"hi\\" \\\\ #x"'
    assert escape.attribute('a "b" {c}') == '"a \\"b\\" {c}"'


def test_charts_draw_dollar_signs_and_backslashes_as_written(tmp_path):
    """Before, a team called '$\\undefined$' stopped the chart: Matplotlib read it as maths."""
    label = "$\\undefinedcommand{x}$ team"
    chart = charts.bar_chart([label, "Other"], pd.Series([10.0, 20.0]).to_numpy(), title=label,
                             value_label="Number", what="referrals", caption="c")
    charts.save_chart(chart, tmp_path / "c.png", dpi=50)
    texts = [t for t in chart.figure.findobj(matplotlib.text.Text) if label in t.get_text()]
    assert texts and all(t.get_text() == label for t in texts)
    assert not any(t._preprocess_math(t.get_text())[1] for t in texts)


def _hostile_document(strings: list[str], media: Path) -> str:
    """Markdown built with every helper a chapter uses, each fed every hostile string."""
    b = Block()
    b.heading("Hostile values")
    for i, h in enumerate(strings):
        b.heading(h, 3)
        b.text(f"In 2024-25 the team {h} received 12 referrals.")
        b.bullets([f"Key message about {h}"])
        b.add(md_table(pd.DataFrame({"Team": [h, "Other"], h: ["1,234", h]}), caption=f"Referrals by {h}",
                       label=f"hostile-{i}"))
    png = media / "figures" / "chart.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    fig = charts.bar_chart(["a", "b"], pd.Series([1.0, 2.0]).to_numpy(), title="t", value_label="n", what="w",
                           caption="c")
    charts.save_chart(fig, png, dpi=40)
    b.add(md_figure("figures/chart.png", caption=" ".join(strings[:6]), alt=" ".join(strings), label="hostile"))
    return b.markdown


@pytest.fixture(scope="module")
def published(tmp_path_factory, secret, server):
    port, hits = server
    strings = hostile(str(secret), port)
    tmp = tmp_path_factory.mktemp("hostile")
    build = tmp / "build"
    build.mkdir()
    nb = new_notebook(cells=[new_markdown_cell("# Hostile values chapter")])
    cell = nbformat.v4.new_code_cell("sections.hostile(ctx)")
    cell.outputs = [new_output("display_data", data={"text/markdown": _hostile_document(strings, build)})]
    nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(build / "01-hostile.ipynb"))
    qyml = tmp / "_quarto.yml"
    qyml.write_text(QUARTO_YML, encoding="utf-8")
    result = publish_builtin(build, tmp / "out", load_quarto_config(qyml))
    return result, strings, hits


def test_hostile_values_appear_literally_in_the_web_page(published):
    result, strings, _hits = published
    assert not_shown_literally(result.html, strings) == []
    text = html_text(result.html)
    assert "Hostile <img src=x onerror=alert(1)> review" in text  # the title is escaped metadata


def test_hostile_values_run_fetch_and_embed_nothing(published, secret):
    result, _strings, hits = published
    page = result.html.read_text(encoding="utf-8")
    assert safety_problems(result.html) == []
    assert "SECRET-KEY-MATERIAL" not in page
    assert base64.b64encode(secret.read_bytes()).decode()[:20] not in page
    assert 'href="javascript' not in page and "<script" not in page.lower()  # as visible text only
    assert hits == [], f"the build asked the local server for {hits}"


def test_hostile_values_appear_literally_in_the_pdf(published):
    from pypdf import PdfReader

    result, _strings, _hits = published
    text = shown(" ".join(page.extract_text() or "" for page in PdfReader(str(result.pdf)).pages))
    # the PDF compiled (before: '@SUM(1+1)' was read as a citation and stopped typst)
    for h in ("@SUM(1+1)", '#eval("1+1")', "window.__pwned = 1", "[click me](javascript:window.__pwned=3)"):
        assert h in text, f"not in the PDF text: {h!r}"
    assert "SECRET-KEY-MATERIAL" not in text


def test_the_publisher_refuses_an_image_or_link_from_outside_the_build(tmp_path, secret):
    """The last line of defence: even unescaped Markdown cannot embed a file or link to a script."""
    for markdown, what in ((f"Text ![x]({secret}) more", "image"), ("[x](javascript:alert(1))", "link")):
        build = tmp_path / what / "build"
        build.mkdir(parents=True)
        nb = new_notebook(cells=[new_markdown_cell("# Chapter"), new_markdown_cell(markdown)])
        nbformat.write(nb, str(build / "01-hostile.ipynb"))
        qyml = tmp_path / what / "_quarto.yml"
        qyml.write_text(QUARTO_YML, encoding="utf-8")
        with pytest.raises(PublishError, match=f"guard.lua: {what}"):
            publish_builtin(build, tmp_path / what / "out", load_quarto_config(qyml))


def test_a_figure_line_outside_the_build_folder_is_refused(tmp_path, secret):
    build = tmp_path / "build"
    build.mkdir()
    nb = new_notebook(cells=[new_markdown_cell("# Chapter"),
                             new_markdown_cell(f'![caption]({secret}){{#fig-x fig-alt="alt"}}')])
    nbformat.write(nb, str(build / "01-hostile.ipynb"))
    qyml = tmp_path / "_quarto.yml"
    qyml.write_text(QUARTO_YML, encoding="utf-8")
    with pytest.raises(PublishError, match="outside the build folder"):
        publish_builtin(build, tmp_path / "out", load_quarto_config(qyml))


def test_safety_check_finds_what_a_page_must_not_do(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<html><body><script>x</script><img src="http://h/x.png" alt="a" onload="y()">'
                    '<a href="javascript:z()">z</a><style>@import "x.css";</style></body></html>',
                    encoding="utf-8")
    problems = " ".join(safety_problems(page))
    for expected in ("<script>", "onload", "javascript:", "http://h/x.png", "stylesheet"):
        assert expected in problems
