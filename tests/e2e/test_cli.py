"""The `dossier` command line as the archive department scripts it (the stable interface)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from web.cli import main


@pytest.fixture
def archive(tmp_path: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    """An initialised embedded archive (the settings fixture clears DOSSIER_* variables)."""
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "init"])
    assert result.exit_code == 0, result.output
    return settings.data_dir


def run(archive: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(archive), *args], input=input)


def test_init_creates_a_private_key_file_and_is_idempotent(archive: Path) -> None:
    """`dossier init` makes the master key file readable by its owner only, and never overwrites it."""
    key = archive / "master.key"
    assert key.stat().st_mode & 0o077 == 0
    before = key.read_bytes()
    assert run(archive, "init").exit_code == 0
    assert key.read_bytes() == before


def test_register_from_flags_prints_the_number(archive: Path) -> None:
    r = run(archive, "new", "--complainant", "张三", "--respondent", "某律所", "--matter", "拖延办理",
            "--channel", "fax", "--received-at", "2026-11-02 09:30")
    assert r.exit_code == 0, r.output
    assert r.output.strip().endswith("-001") and len(r.output.strip()) == 8


def test_register_from_json_and_toml_files(archive: Path, tmp_path: Path) -> None:
    """`new --from FILE` takes the registration fields as JSON or TOML; --json echoes the dossier."""
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"complainant": "李四", "matter": "收取费用", "channel": "email",
                             "received_at": "2026-11-01T08:00:00+08:00", "evidence": ["收据"], "category": "违规收费"}),
                 encoding="utf-8")
    t = tmp_path / "c.toml"
    t.write_text('complainant = "王五"\nmatter = "泄露隐私"\nanonymous = false\ncollective_count = 3\n', encoding="utf-8")
    first = json.loads(run(archive, "new", "--from", str(j), "--json").stdout)
    assert first["registration"]["channel"] == "email" and first["registration"]["evidence"] == ["收据"]
    assert first["state"] == "registered" and first["deadlines"][0]["clock"] == "acceptance"
    second = run(archive, "new", "--from", str(t))
    assert second.exit_code == 0
    assert int(second.output.strip()[-3:]) == int(first["archive_number"][-3:]) + 1


def test_add_get_show_list_roundtrip(archive: Path, tmp_path: Path) -> None:
    """File two documents, list and show the dossier, and get the exact bytes back."""
    number = run(archive, "new", "--complainant", "张三", "--matter", "拖延").output.strip()
    a, b = tmp_path / "letter.pdf", tmp_path / "fax.tif"
    a.write_bytes(b"%PDF-1.4 letter")
    b.write_bytes(b"II*\x00 fax")
    added = run(archive, "add", number, str(a), str(b), "--kind", "complaint_letter", "--json")
    assert added.exit_code == 0, added.output
    items = [x["item_number"] for x in json.loads(added.stdout)]
    assert items == [f"{number}-01", f"{number}-02"]
    out = tmp_path / "out.pdf"
    assert run(archive, "get", items[0], "-o", str(out)).exit_code == 0
    assert out.read_bytes() == a.read_bytes()
    shown = json.loads(run(archive, "show", number, "--json").stdout)
    assert [d["item_number"] for d in shown["documents"]] == items
    assert "letter.pdf" in run(archive, "show", number).output
    listed = json.loads(run(archive, "list", "--json").stdout)
    assert listed[0]["archive_number"] == number and listed[0]["documents"] == 2
    again = run(archive, "add", number, str(a), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)[0]["outcome"] == "duplicate"


def test_list_filters_by_state_month_and_overdue(archive: Path) -> None:
    old = run(archive, "new", "--complainant", "甲", "--matter", "m", "--received-at", "2026-10-08").output.strip()
    new = run(archive, "new", "--complainant", "乙", "--matter", "m", "--received-at", "2026-11-20").output.strip()
    run(archive, "advance", new, "accepted", "--on", "2026-11-20")

    def numbers(*args: str) -> list[str]:
        r = run(archive, "list", "--json", *args)
        assert r.exit_code == 0, r.output
        return [d["archive_number"] for d in json.loads(r.stdout)]

    assert numbers("--state", "accepted") == [new]
    assert numbers("--month", "2026-10") == [old]
    assert numbers("--overdue", "--as-of", "2026-11-23") == [old]


def test_verify_passes_on_a_healthy_archive_and_fails_on_a_corrupt_blob(archive: Path, tmp_path: Path) -> None:
    number = run(archive, "new", "--complainant", "张三", "--matter", "m").output.strip()
    f = tmp_path / "f.txt"
    f.write_bytes(b"evidence " * 1000)
    run(archive, "add", number, str(f))
    assert run(archive, "verify").exit_code == 0
    blob = next(p for p in (archive / "vault").rglob("*") if p.is_file())
    raw = bytearray(blob.read_bytes())
    raw[-5] ^= 0xFF
    blob.chmod(0o600)
    blob.write_bytes(bytes(raw))
    r = run(archive, "verify", "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["problems"][0]["item_number"] == f"{number}-01"
    out = tmp_path / "never.txt"
    g = run(archive, "get", f"{number}-01", "-o", str(out))
    assert g.exit_code != 0 and not out.exists() and list(tmp_path.glob(".never.txt.*")) == []


def test_keys_rotate_keeps_documents_readable(archive: Path, tmp_path: Path) -> None:
    number = run(archive, "new", "--complainant", "张三", "--matter", "m").output.strip()
    f = tmp_path / "f.txt"
    f.write_bytes(b"minutes")
    run(archive, "add", number, str(f))
    r = run(archive, "keys", "rotate", "--json")
    # Issue #12: the document's data key is wrapped under its dossier's key, which is what is re-wrapped.
    assert r.exit_code == 0 and json.loads(r.stdout)["dossier_keys_rewrapped"] >= 1
    out = tmp_path / "o"
    assert run(archive, "get", f"{number}-01", "-o", str(out)).exit_code == 0 and out.read_bytes() == b"minutes"


@pytest.mark.parametrize("args, code, words", [
    (("show", "2611-404"), 3, "no dossier"),
    (("add", "2611-404", "README"), 4, "no such file"),
    (("get", "2611-404-01", "-o", "x"), 3, "no document"),
    (("new", "--complainant", "a", "--matter", "m", "--received-at", "2026-13-45"), 4, "received_at"),
    (("new", "--complainant", "a"), 4, "matter"),
    (("list", "--month", "2026/11"), 4, "month"),
])
def test_bad_input_gets_a_one_line_error_and_exit_code(archive: Path, args: tuple[str, ...], code: int, words: str) -> None:
    """Every bad input gives one clear line on stderr and a non-zero exit, never a traceback."""
    r = CliRunner().invoke(main, ["--data-dir", str(archive), *args])
    assert r.exit_code == code, r.output
    assert words in r.output and "Traceback" not in r.output
    assert len([line for line in r.output.splitlines() if line.strip()]) == 1


def test_closed_dossier_refuses_new_documents(archive: Path, tmp_path: Path) -> None:
    number = run(archive, "new", "--complainant", "张三", "--matter", "m").output.strip()
    run(archive, "advance", number, "not_accepted")
    run(archive, "advance", number, "closed", "--override-reason", "no materials in this test")
    f = tmp_path / "late.pdf"
    f.write_bytes(b"late")
    r = run(archive, "add", number, str(f))
    assert r.exit_code == 5 and "closed" in r.output


def test_wrong_key_file_is_a_clear_error(archive: Path, tmp_path: Path) -> None:
    """With another archive's key file, reading fails with a key error, not garbage or a traceback."""
    number = run(archive, "new", "--complainant", "张三", "--matter", "m").output.strip()
    f = tmp_path / "f.txt"
    f.write_bytes(b"secret")
    run(archive, "add", number, str(f))
    other = tmp_path / "other"
    assert CliRunner().invoke(main, ["--data-dir", str(other), "init"]).exit_code == 0
    (archive / "master.key").write_bytes((other / "master.key").read_bytes())
    r = run(archive, "get", f"{number}-01", "-o", str(tmp_path / "o"))
    assert r.exit_code == 7 and "key" in r.output.lower() and "Traceback" not in r.output


def test_uninitialised_archive_says_run_init(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    r = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "nothing"), "list"])
    assert r.exit_code == 8 and "dossier init" in r.output


@pytest.mark.parametrize("month", ["9999-12", "9999999999-01", "2026-13", "0000-01", "next"])
def test_a_month_out_of_range_is_bad_input_not_a_traceback(archive: Path, month: str) -> None:
    r = run(archive, "list", "--month", month)
    assert r.exit_code == 4, r.output
    assert "Traceback" not in r.output and "month" in r.output
