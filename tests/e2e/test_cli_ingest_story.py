"""`dossier ingest --json` tells every file's story (issue #13 item 7): library warnings are in the
file's ``warnings`` list, never on stderr without a file name; every text has its languages.

The command runs as a real process (the parser processes inherit its stderr, which is what an
operator sees), on a PDF that makes pypdf complain and a Chinese e-mail.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from reportlab.pdfgen import canvas

from records.settings import Settings

REPO = Path(__file__).resolve().parents[2]
LETTER = "投诉书：承办律师三个月未联系当事人，拖延办理法律援助案件，请求更换律师并调查处理。"
KEYS = {"path", "outcome", "message", "kind", "chars", "languages", "warnings", "item_number", "parent_item"}


def _cut_pdf() -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "Complaint about the legal aid lawyer")
    page.showPage()
    page.save()
    data = buf.getvalue()
    return data[:data.rfind(b"%%EOF")] + b"\n\n\n"   # pypdf: "EOF marker not found"


def _eml() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "zhang@example.cn", "office@example.cn", "投诉"
    msg.set_content(LETTER)
    return msg.as_bytes()


def test_ingest_json_carries_library_warnings_per_file_and_stderr_stays_clean(settings: Settings, tmp_path: Path) -> None:
    """GIVEN a PDF pypdf warns about and a Chinese e-mail
    WHEN `dossier ingest --json` files them, and files them again
    THEN the PDF's line lists 'pypdf: EOF marker not found' (ok_with_warnings), the e-mail's
    languages say zh-Hans, every line has a warnings list, stderr has no library noise, and the
    re-run's duplicates have empty warnings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env |= {"DOSSIER_DATA_DIR": str(settings.data_dir), "DOSSIER_INGEST__WORKERS": "1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done

    run("init")
    number = run("new", "--complainant", "张三", "--respondent", "某律师事务所", "--matter", "律师拖延办理",
                 "--category", "拖延", "--received-at", "2026-11-02").stdout.strip()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cut.pdf").write_bytes(_cut_pdf())
    (folder / "letter.eml").write_bytes(_eml())

    first = run("ingest", str(folder), "--dossier", number, "--json")
    lines = {Path(str(o["path"])).name: o for o in map(json.loads, first.stdout.splitlines())}
    assert all(KEYS <= set(o) and isinstance(o["warnings"], list) for o in lines.values())
    assert lines["cut.pdf"]["outcome"] == "ok_with_warnings"
    assert "pypdf: EOF marker not found" in lines["cut.pdf"]["warnings"]
    assert "zh-Hans" in lines["letter.eml"]["languages"]
    assert "EOF marker" not in first.stderr and "pypdf" not in first.stderr, first.stderr

    again = [json.loads(line) for line in run("ingest", str(folder), "--dossier", number, "--json").stdout.splitlines()]
    assert {o["outcome"] for o in again} == {"duplicate"} and all(o["warnings"] == [] for o in again)
