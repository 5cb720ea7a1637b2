"""Searching past complaints from the command line, with the index kept in step (embedded FTS5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from web.cli import main


@pytest.fixture
def archive(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    assert CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "init"]).exit_code == 0
    return Path(settings.data_dir)


def run(archive: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(archive), *args])


def _filed(archive: Path, tmp_path: Path) -> tuple[str, str]:
    number = run(archive, "new", "--complainant", "张三", "--respondent", "某律师事务所", "--matter", "律师拖延办理",
                 "--category", "拖延", "--received-at", "2026-11-02").stdout.strip()
    letter = tmp_path / "letter.txt"
    letter.write_text("投诉书\n承办律师三个月未联系，拖延办理法律援助案件。Lawyer never called back.", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("会议通知：明天上午开会。", encoding="utf-8")
    out = run(archive, "ingest", str(letter), str(other), "--dossier", number, "--json")
    assert out.exit_code == 0, out.output
    return number, json.loads(out.stdout.splitlines()[0])["item_number"]


def test_ingested_document_is_found_in_traditional_script_with_a_snippet(archive: Path, tmp_path: Path) -> None:
    """A handler typing 投訴 (Traditional) finds the letter filed as 投诉, highlighted."""
    number, item = _filed(archive, tmp_path)
    r = run(archive, "search", "投訴", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert [h["item_number"] for h in result["hits"]] == [item]
    assert result["hits"][0]["archive_number"] == number and "«投诉»" in result["hits"][0]["snippet"]
    assert result["facets"]["kind"] == {"complaint_letter": 1}


def test_lifecycle_change_is_reflected_in_state_filters(archive: Path, tmp_path: Path) -> None:
    number, item = _filed(archive, tmp_path)
    assert json.loads(run(archive, "search", "律师", "state:accepted", "--json").stdout)["total"] == 0
    run(archive, "advance", number, "accepted", "--on", "2026-11-03")
    hits = json.loads(run(archive, "search", "律师", "state:accepted", "--json").stdout)["hits"]
    assert item in [h["item_number"] for h in hits]


def test_malformed_query_gets_a_clear_one_line_error(archive: Path) -> None:
    r = run(archive, "search", '"unclosed phrase')
    assert r.exit_code == 4 and "Traceback" not in r.output
    assert len([line for line in r.output.splitlines() if line.strip()]) == 1


def test_verify_reports_index_drift_and_reindex_repairs_it(archive: Path, tmp_path: Path) -> None:
    """An index that lost entries is named by `verify`; `reindex` rebuilds it from the vault."""
    from records.settings import load_settings
    from web.bootstrap import build_services

    _, item = _filed(archive, tmp_path)
    assert run(archive, "verify").exit_code == 0
    services = build_services(load_settings(data_dir=archive))
    doc_ids = sorted(services.records.live_document_ids("t"))
    services.search.remove(doc_ids[:1])
    services.close()
    r = run(archive, "verify", "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["index"]["missing"] == doc_ids[:1]
    assert run(archive, "reindex").exit_code == 0
    assert run(archive, "verify").exit_code == 0
    assert json.loads(run(archive, "search", "三个月", "--json").stdout)["hits"][0]["item_number"] == item
