"""Every real-world file of shared/corpus gets a clear, recorded outcome (issue: ingest).

The whole folder is ingested by the `dossier` command in a subprocess, as the archive department
would run it; the test watches that process's children and memory while it runs, then checks
each file's outcome against the facts in provenance.jsonl.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest

from records.settings import load_settings
from web.bootstrap import build_services

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
HAN = re.compile(r"[\u4e00-\u9fff]")
FILED = {"ok", "ok_with_warnings", "encrypted", "corrupt", "unsupported", "too_large"}


def _provenance() -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in (CORPUS / "provenance.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return {str((CORPUS.parent / r["shared_path"]).resolve()): r for r in rows}


def _password(row: dict[str, Any]) -> str | None:
    m = re.match(r"'(.*)' \((user|owner)\)", str(row["measured"].get("password_verified") or ""))
    return m.group(1) if m else None


def _run_watched(args: list[str], env: dict[str, str]) -> tuple[str, int, float]:
    """Run the CLI, sampling its process tree: (stdout, peak process count, peak RSS MiB)."""
    import threading

    peak_procs, peak_rss = 0, 0.0
    out: list[str] = []
    err: list[str] = []
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        readers = [threading.Thread(target=lambda s=stream, b=buf: b.append(s.read()))
                   for stream, buf in ((proc.stdout, out), (proc.stderr, err))]
        for t in readers:
            t.start()
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [watched, *watched.children(recursive=True)]
                peak_procs = max(peak_procs, len(tree))
                peak_rss = max(peak_rss, sum(p.memory_info().rss for p in tree) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.2)
        for t in readers:
            t.join()
    assert proc.returncode == 0, "".join(err)[-3000:]
    return "".join(out), peak_procs, peak_rss


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import os

    data_dir = tmp_path_factory.mktemp("corpus-archive")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update(DOSSIER_DATA_DIR=str(data_dir), OMP_THREAD_LIMIT="1")
    cli = [sys.executable, "-m", "web.cli"]
    subprocess.run([*cli, "init"], check=True, env=env, capture_output=True)
    folders = sorted(str(d) for d in CORPUS.iterdir() if d.is_dir())
    out, procs, rss = _run_watched([*cli, "ingest", *folders, "--new-dossier", "--json"], env)
    results = [json.loads(line) for line in out.splitlines() if line.strip()]
    number = results[0]["item_number"].rsplit("-", 1)[0]
    rerun, _, _ = _run_watched([*cli, "ingest", *folders, "--dossier", number, "--json"], env)
    return {"results": results, "rerun": [json.loads(x) for x in rerun.splitlines() if x.strip()],
            "procs": procs, "rss": rss, "data_dir": data_dir, "number": number}


def _top_level(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(Path(r["path"]).resolve()): r for r in run["results"] if "#" not in r["path"]}


def test_every_corpus_file_gets_a_recorded_outcome_and_is_kept(corpus_run: dict[str, Any]) -> None:
    """202 files in, 202 outcomes out; each original filed (an item number), none crashed the batch."""
    top = _top_level(corpus_run)
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("provenance.jsonl", "README.md")]
    assert set(top) == {str(p.resolve()) for p in files}
    for path, r in top.items():
        assert r["outcome"] in FILED, (path, r)
        assert r["item_number"], path
        assert r["outcome"] in ("ok", "ok_with_warnings") or r["message"], path


def test_batch_stays_bounded_in_processes_and_memory(corpus_run: dict[str, Any]) -> None:
    """One CLI process plus its parser workers and the forkserver; memory stays far below the machine's."""
    assert corpus_run["procs"] <= 6
    assert corpus_run["rss"] < 4096


def test_files_with_han_text_yield_han_text(corpus_run: dict[str, Any]) -> None:
    """Where other tools measured Chinese characters, the extracted text has them too."""
    services_text = _texts(corpus_run)
    prov = _provenance()
    misses = []
    for path, r in _top_level(corpus_run).items():
        row = prov[path]
        if row["measured"].get("needs_password"):
            continue
        if int(row["measured"].get("han") or 0) >= 20 and r["outcome"] in ("ok", "ok_with_warnings"):
            if not HAN.search(services_text.get(r["item_number"], "")):
                misses.append(row["file"])
    assert misses == []


def test_encrypted_pdfs_are_recorded_as_encrypted_and_open_with_their_password(corpus_run: dict[str, Any], tmp_path: Path) -> None:
    """Without a password: outcome 'encrypted', original kept. With the known password: text."""
    top = _top_level(corpus_run)
    prov = _provenance()
    encrypted = {p: row for p, row in prov.items() if row["measured"].get("needs_password")}
    assert encrypted
    for path in encrypted:
        assert top[path]["outcome"] == "encrypted", (path, top[path])
    settings = load_settings(data_dir=corpus_run["data_dir"])
    services = build_services(settings)
    try:
        opened = 0
        for path, row in encrypted.items():
            password = _password(row)
            if password is None:
                continue
            number = services.ingest.register_for_intake("test", _registration())
            result = services.ingest.ingest_paths("test", [Path(path)], dossier=number, password=password)[0]
            assert result.outcome.value in ("ok", "ok_with_warnings"), (row["file"], result)
            opened += 1
        assert opened >= 5
    finally:
        services.close()


def test_rerun_of_the_same_folder_files_nothing_twice(corpus_run: dict[str, Any]) -> None:
    outcomes = Counter(r["outcome"] for r in corpus_run["rerun"] if "#" not in r["path"])
    assert outcomes == Counter({"duplicate": len(_top_level(corpus_run))})


def test_email_attachments_become_child_documents(corpus_run: dict[str, Any]) -> None:
    """Attachments of emails and .msg files are filed as documents pointing at their message."""
    children = [r for r in corpus_run["results"] if "#" in r["path"]]
    assert len(children) >= 20
    assert all(c["parent_item"] for c in children)


def _registration():  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    from records.model import Registration

    return Registration(matter="encrypted PDFs", complainant="test", received_at=datetime.now(timezone.utc))


def _texts(run: dict[str, Any]) -> dict[str, str]:
    settings = load_settings(data_dir=run["data_dir"])
    services = build_services(settings)
    out = {}
    try:
        for r in run["results"]:
            if r["outcome"] in ("ok", "ok_with_warnings") and r["item_number"]:
                out[r["item_number"]] = services.records.document_text("test", r["item_number"])[1]
    finally:
        services.close()
    return out

