"""``pipeline.py init`` (safeguarding.scaffold) and ``pipeline.py check`` (safeguarding.check).

Everything is written under ``tmp_path``; the only project files read are the
demo extracts in ``data/raw/demo``, the chapter notebooks and ``_quarto.yml``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from safeguarding.check import check_inputs, closest_code, looks_like_value
from safeguarding.cli import main
from safeguarding.config import load_config
from safeguarding.scaffold import (
    REFERENCE_SUBDIR,
    extracts_readme,
    latest_complete_year,
    scaffold_area,
)
from safeguarding.schema import CODE_LISTS, ENTITIES
from safeguarding.synth.generator import inputs_config

PROJECT = Path(__file__).resolve().parents[1]
DEMO = PROJECT / "data" / "raw" / "demo"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------
# init
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "year"), [
    (dt.date(2025, 3, 31), 2024),   # 2024-25 ends today: not complete yet
    (dt.date(2025, 4, 1), 2025),
    (dt.date(2025, 12, 4), 2025),
    (dt.date(2026, 1, 1), 2025),
])
def test_latest_complete_year(today: dt.date, year: int) -> None:
    assert latest_complete_year(today) == year


def test_init_writes_an_area_that_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    area = tmp_path / "areas" / "eastshire"
    name = 'Eastshire & Co: "East" #1 – Safeguarding'
    code, out, err = _run(capsys, "init", str(area), "--area", name, "--la-code", "873")
    assert code == 0, err
    for rel in ("report.yml", "_quarto.yml", "data/raw/README.md", ".gitignore"):
        assert (area / rel).is_file(), rel
    assert (area / "_quarto.yml").read_bytes() == (PROJECT / "_quarto.yml").read_bytes()
    project_nbs = sorted(p.name for p in (PROJECT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert project_nbs and sorted(p.name for p in (area / "notebooks").glob("*.ipynb")) == project_nbs
    for nb_path in (area / "notebooks").glob("*.ipynb"):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"]["name"]
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in nb["cells"] if c["cell_type"] == "code")

    cfg = load_config(area / "report.yml")
    assert cfg.area_name == name
    assert cfg.area_slug == "eastshire-co-east-1-safeguarding"
    assert cfg.raw["area"]["la_code"] == "873"
    assert cfg.year == latest_complete_year()
    assert set(cfg.inputs) == set(ENTITIES)
    # outside the project: the shipped DfE release, by absolute path, so the first build has benchmarks
    folder = cfg.resolve(cfg.raw["benchmarks"]["folder"])
    assert folder.is_absolute() and any(folder.glob("c1_*.csv"))
    text = (area / "report.yml").read_text(encoding="utf-8")
    assert "# population:" in text
    assert f"python pipeline.py check --config {area / 'report.yml'}" in out
    assert "data/raw" in out and "python pipeline.py build" in out


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    area = tmp_path / "area"
    area.mkdir()
    (area / "report.yml").write_text("mine\n", encoding="utf-8")
    code, out, err = _run(capsys, "init", str(area), "--area", "Northwold")
    assert code == 2 and "not empty" in err and "--force" in err
    assert sorted(p.name for p in area.iterdir()) == ["report.yml"]
    # --force adds what is missing and never overwrites
    code, out, err = _run(capsys, "init", str(area), "--area", "Northwold", "--force")
    assert code == 0, err
    assert (area / "report.yml").read_text(encoding="utf-8") == "mine\n"
    assert (area / "data" / "raw" / "README.md").is_file() and (area / "_quarto.yml").is_file()
    assert "kept  report.yml" in out


def test_init_refuses_a_bad_council_code_or_blank_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "init", str(tmp_path / "a"), "--area", "Northwold", "--la-code", "87")
    assert code == 2 and "--la-code" in err
    code, _, err = _run(capsys, "init", str(tmp_path / "b"), "--area", "  ")
    assert code == 2 and "--area" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_init_inside_the_project_points_at_the_shipped_reference_data(tmp_path: Path) -> None:
    root = tmp_path / "project"  # a stand-in project checkout
    (root / REFERENCE_SUBDIR).mkdir(parents=True)
    (root / "notebooks").mkdir()
    result = scaffold_area(root / "areas" / "westshire", "Westshire", "E06000031", project_root=root,
                           today=dt.date(2025, 6, 1))
    cfg = load_config(result.folder / "report.yml")
    assert cfg.year == 2025
    assert cfg.raw["area"]["la_code"] == "E06000031"
    assert cfg.resolve(cfg.raw["benchmarks"]["folder"]).resolve() == (root / REFERENCE_SUBDIR).resolve()


def test_extracts_readme_is_generated_from_the_schema() -> None:
    text = extracts_readme()
    sections = {part.split("\n", 1)[0]: part for part in text.split("\n## ")[1:]}
    for name, entity in ENTITIES.items():
        section = sections[name]
        assert entity.description in section
        for col in entity.columns:
            row = next(line for line in section.splitlines() if line.startswith(f"| `{col.name}` |"))
            assert ("**required**" in row) == col.required
            assert all(f"`{alias}`" in row for alias in entity.aliases.get(col.name, ()))
    for codes in CODE_LISTS.values():
        for code in codes:
            assert f"| `{code}` |" in text


# --------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------

def _write_config(path: Path, inputs: dict, **extra: object) -> Path:
    cfg = {"area": {"name": "Testshire"}, "year": 2025, "inputs": inputs, **extra}
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
    return path


def _column_values(path: Path, header: str, encoding: str = "utf-8") -> set[str]:
    with open(path, encoding=encoding, newline="") as fh:
        return {row[header] for row in csv.DictReader(fh) if row[header].strip()}


@pytest.fixture()
def broken_area(tmp_path: Path) -> tuple[Path, int]:
    """The demo extracts, with the s47 start-date header renamed and one referral source relabelled."""
    raw = tmp_path / "raw"
    shutil.copytree(DEMO, raw)
    s47 = raw / "s47.csv"
    s47.write_text(s47.read_text(encoding="utf-8").replace("Date S47 Started", "Date S47 Begun", 1), encoding="utf-8")
    refs = raw / "referrals.csv"
    text = refs.read_text(encoding="utf-8")
    n = text.count('"Police"')
    assert n > 0
    refs.write_text(text.replace('"Police"', '"Police - Response Team"'), encoding="utf-8")
    return _write_config(tmp_path / "report.yml", inputs_config("raw")), n


def test_check_lists_exactly_the_renamed_header_and_unknown_code(
        broken_area: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    config, n_police = broken_area
    root = config.parent
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    code, out, err = _run(capsys, "check", "--config", str(config))
    assert code == 1, err

    result = check_inputs(load_config(config))
    blocking = [(c.table, f.kind, f.column, f.suggestion) for c in result.inputs for f in c.blocking]
    assert blocking == [("s47", "configured_absent", "s47_start_date", "Date S47 Begun")]
    unknown = [(c.table, f.column, f.value, f.count, f.suggestion) for c in result.inputs
               for f in c.of("unknown_code", "hidden_codes")]
    assert unknown == [("referrals", "referral_source", "Police - Response Team", n_police, "6")]
    unmapped = [(c.table, f.header, f.count) for c in result.inputs for f in c.of("unmapped_header")]
    assert unmapped == [("s47", "Date S47 Begun", len(_column_values(root / "raw" / "s47.csv", "S47 ID")))]
    personal = sorted(f.header for c in result.inputs for f in c.of("personal_header"))
    assert personal == ["Address", "Forename", "Notes"]
    assert not [f for c in result.inputs for f in c.of("warning", "bad_code_setting", "missing_required")]

    # the printed report: grouped by input, counts, and the snippets to paste
    assert "inputs.s47  [CANNOT BE BUILT]" in out and "inputs.referrals  [ok]" in out
    assert '"Date S47 Begun": 2,766 non-blank values' in out or '"Date S47 Begun":' in out
    assert f'"Police - Response Team" in {n_police:,} rows' in out
    s47 = next(c for c in result.inputs if c.table == "s47")
    refs = next(c for c in result.inputs if c.table == "referrals")
    for chk in (s47, refs):
        for where, snippet in chk.snippets():
            assert f"under {where}:" in out and snippet in out
    assert s47.settings() == {"columns": {"s47_start_date": "Date S47 Begun"}}
    assert refs.settings() == {"codes": {"referral_source": {"Police - Response Team": "6"}}}

    # nothing written: no processed folder, no file changed
    assert not (root / "data").exists()
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before

    # paste the snippets into report.yml as printed: the check then passes
    lines = config.read_text(encoding="utf-8").splitlines()
    (where_cols, col_snippet), = s47.snippets()
    assert where_cols.startswith("inputs.s47.columns")
    i = next(k for k, line in enumerate(lines) if line.startswith("      s47_start_date:"))
    lines[i:i + 1] = col_snippet.splitlines()
    (where_codes, code_snippet), = refs.snippets()
    assert where_codes == "inputs.referrals.codes.referral_source"
    start = lines.index("  referrals:")
    j = next(k for k in range(start, len(lines)) if lines[k] == "      referral_source:")
    lines[j + 1:j + 1] = code_snippet.splitlines()
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(capsys, "check", "--config", str(config), "--strict")
    assert code == 0, out + err
    assert "nothing blocks the build" in out and "0 value(s) not recognised" in out
    fixed = load_config(config)
    assert fixed.inputs["s47"].configured_columns["s47_start_date"] == "Date S47 Begun"
    assert (fixed.inputs["referrals"].codes or {})["referral_source"]["Police - Response Team"] == "6"


def test_check_never_prints_a_child_identifier_or_date_of_birth(
        broken_area: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = broken_area
    raw = config.parent / "raw"
    secret: set[str] = set()
    for name in ("referrals.csv", "s47.csv", "icpc.csv", "cp_reviews.csv", "private_fostering.csv"):
        secret |= _column_values(raw / name, "Child ID", "utf-8-sig")
    secret |= _column_values(raw / "children.csv", "Person ID") | _column_values(raw / "children.csv", "DOB")
    secret |= _column_values(raw / "children.csv", "Forename")
    assert len(secret) > 1000
    outputs = []
    _, out, err = _run(capsys, "check", "--config", str(config), "--verbose")
    outputs.append(out + err)
    # and with settings that point coded columns at identifiers, or the header row at a data row
    inputs = inputs_config("raw")
    inputs["children"]["header_row"] = 2
    inputs["referrals"]["columns"].update(referral_source="Child ID", primary_need="Child ID")
    inputs["private_fostering"]["columns"]["child_id"] = "PF Ref"
    inputs["private_fostering"]["columns"]["pf_id"] = "Child ID"
    inputs["cp_reviews"]["columns"]["child_id"] = "Plan ID"
    (raw / "sexes.csv").write_text("Person ID,DOB,Gender\n" + "".join(
        f"{cid},01/02/2015,{cid}\n" for cid in sorted(_column_values(raw / "children.csv", "Person ID"))[:15]),
        encoding="utf-8")
    inputs["children"] = {"file": "raw/sexes.csv"}
    config2 = _write_config(config.parent / "report2.yml", inputs)
    _, out2, err2 = _run(capsys, "check", "--config", str(config2))
    outputs.append(out2 + err2)
    text = "\n".join(outputs)
    leaked = sorted(v for v in secret if v in text)
    assert leaked == []
    assert "not shown" in out2


def test_check_suggests_columns_for_an_input_without_a_columns_section(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    rows = [("C1", "R1", "01/05/2024", "Police", "North"), ("C2", "R2", "02/05/2024", "Skools", "South"),
            ("C3", "R3", "03/05/2024", "Skools", ""), ("C4", "R4", "04/05/2024", "GP", "North")]
    (raw / "refs.csv").write_text("Child ID,Referral Ref,Referral Dt,Source,Locality Team Nm\n"
                                  + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    (raw / "lado.csv").write_text(
        "LADO Ref,Date Referred,Employer Sector,Actions Taken\n"
        "L1,01/05/2024,Schools,Suspended; Dismisal\nL2,02/05/2024,Nursery,Dismisal\nL3,03/05/2024,NHS,\n",
        encoding="utf-8")
    config = tmp_path / "report.yml"
    config.write_text(textwrap.dedent("""\
        area:
          name: Testshire
        year: 2025
        inputs:
          referrals:
            file: data/raw/refs.csv
          allegations:
            file: data/raw/lado.csv
        """), encoding="utf-8")
    code, out, err = _run(capsys, "check", "--config", str(config))
    assert code == 1, err
    result = check_inputs(load_config(config))
    refs, lado = result.inputs
    assert [(f.kind, f.column, f.suggestion) for f in refs.blocking] == [
        ("missing_required", "referral_date", "Referral Dt")]
    assert [(f.value, f.count) for f in refs.of("unknown_code")] == [("Skools", 2), ("GP", 1)]
    assert refs.codes == {"referral_source": {"Skools": "2A", "GP": "3A"}}
    assert refs.guesses == {"team": "Locality Team Nm"}
    assert [(f.header, f.count) for f in refs.of("unmapped_header")] == [
        ("Referral Dt", 4), ("Locality Team Nm", 3)]
    assert [(f.value, f.count) for f in lado.of("unknown_code")] == [("Dismisal", 2)]
    assert not lado.blocking
    snippets = refs.snippets() + lado.snippets()
    assert [w for w, _ in snippets] == ["inputs.referrals", "inputs.referrals", "inputs.allegations"]
    for _, snippet in snippets:
        assert snippet in out
    # paste each snippet right under its input's `file:` line: the check passes
    lines = config.read_text(encoding="utf-8").splitlines()
    for table, file in (("allegations", "lado.csv"), ("referrals", "refs.csv")):
        i = lines.index(f"    file: data/raw/{file}")
        lines[i + 1:i + 1] = [ln for w, s in snippets if w == f"inputs.{table}" for ln in s.splitlines()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(capsys, "check", "--config", str(config), "--strict")
    assert code == 0, out + err
    cfg = load_config(config)
    assert cfg.inputs["referrals"].columns == {"referral_date": "Referral Dt"}  # the guess stays commented out
    assert cfg.inputs["allegations"].codes == {"actions": {"Dismisal": "dismissal"}}


def test_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # configuration error: 2, nothing read
    bad = tmp_path / "bad.yml"
    bad.write_text("area: {name: X}\nyear: '2024-25'\ninputs: {referrals: {file: nowhere.csv}}\n", encoding="utf-8")
    code, out, err = _run(capsys, "check", "--config", str(bad))
    assert code == 2 and "year" in err and out == ""
    code, _, err = _run(capsys, "check", "--config", str(tmp_path / "missing.yml"))
    assert code == 2
    none = tmp_path / "none.yml"
    none.write_text("area: {name: X}\nyear: 2025\n", encoding="utf-8")
    code, _, err = _run(capsys, "check", "--config", str(none))
    assert code == 2 and "no inputs" in err
    # a freshly made area: every extract still to be put in data/raw, so 1
    area = tmp_path / "area"
    assert _run(capsys, "init", str(area), "--area", "Northwold")[0] == 0
    code, out, err = _run(capsys, "check", "--config", str(area / "report.yml"))
    assert code == 1
    for table in ENTITIES:
        assert f"inputs.{table}  [CANNOT BE BUILT]  data/raw/{table}.csv" in out
    assert out.count("file not found") == len(ENTITIES)
    assert not (area / "data" / "processed").exists()
    # an unknown code alone does not block (exit 0) unless --strict
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "c.csv").write_text("Child ID,DOB,Sex\nC1,01/02/2015,M\nC2,03/04/2016,Alien\n", encoding="utf-8")
    cfg = _write_config(tmp_path / "c.yml", {"children": {"file": "raw/c.csv"}})
    assert _run(capsys, "check", "--config", str(cfg))[0] == 0
    assert _run(capsys, "check", "--config", str(cfg), "--strict")[0] == 1


def test_check_reads_the_demo_aggregate_return(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(DEMO, tmp_path / "raw")
    from safeguarding.synth.generator import aggregates_config

    config = _write_config(tmp_path / "report.yml", inputs_config("raw"), aggregates=aggregates_config("raw"))
    code, out, err = _run(capsys, "check", "--config", str(config))
    assert code == 0, out + err
    assert "aggregates[0]  [ok]" in out and "nothing blocks the build" in out
    aggregates = aggregates_config("raw")
    aggregates[0]["file"] = "raw/no_such_return.xlsx"
    _write_config(config, inputs_config("raw"), aggregates=aggregates)
    code, out, err = _run(capsys, "check", "--config", str(config))
    assert code == 1 and "aggregates[0]  [CANNOT BE BUILT]" in out


def test_helpers() -> None:
    assert looks_like_value("1000508") and looks_like_value("31/12/2011") and looks_like_value("2024-04-01")
    assert not looks_like_value("Date S47 Started") and not looks_like_value("S47 ID")
    assert closest_code("referral_source", "Skools")[0] == "2A"
    assert closest_code("category_of_abuse", "Neglectt")[0] == "NEG"
