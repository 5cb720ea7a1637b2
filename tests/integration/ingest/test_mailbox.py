"""Mail intake against a real Dovecot: `dossier mail fetch` files each message exactly once.

Messages are delivered by IMAP APPEND (no SMTP). Each test polls its own folder of the one
session server. The crash test kills a real fetch process with SIGKILL right after a message
was filed (catalogue committed) but before the server learnt it is done, and once right after a
new dossier was registered but before anything was filed into it; the next normal run must
lose nothing and file nothing twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ingest.channels.imap import DONE_KEYWORD, encode_mailbox_name
from records.model import Channel, DocumentKind, DocumentSource, Registration
from records.settings import Settings
from tests.servers.dovecot import DovecotServer
from web.bootstrap import Services, build_services, init_archive

pytestmark = pytest.mark.imap

REPO = Path(__file__).resolve().parents[3]
PASSWORD_ENV = "MAIL_TEST_PASSWORD"


# ------------------------------------------------------------------ fixtures and helpers
@pytest.fixture
def archive(make_settings: Callable[..., Settings]) -> Settings:
    """An initialised embedded archive whose data dir also configures the CLI (one parser, no OCR)."""
    settings = make_settings()
    init_archive(settings)
    (settings.data_dir / "dossier.toml").write_text("[ingest]\nworkers = 1\nocr = false\n", encoding="utf-8")
    return settings


@pytest.fixture
def svc(archive: Settings) -> Iterator[Services]:
    services = build_services(archive)
    yield services
    services.close()


def _b64_lines(data: bytes) -> str:
    return "\r\n".join(textwrap.wrap(base64.b64encode(data).decode(), 76))


def _encoded_word(text: str, charset: str = "gbk") -> str:
    return f"=?{charset}?b?{base64.b64encode(text.encode(charset)).decode()}?="


def complaint(subject: str, body: str, *, sender: str = "张三", address: str = "zhangsan@example.cn",
              attachment: tuple[str, str] | None = None, message_id: str = "<c1@example.cn>") -> bytes:
    """A Chinese mail as real clients send it: RFC 2047 GBK subject and name, GBK body, UTF-8 attachment."""
    head = (f"From: {_encoded_word(sender)} <{address}>\r\nTo: tousu@legalaid.example.cn\r\n"
            f"Subject: {_encoded_word(subject)}\r\nDate: Mon, 02 Nov 2026 09:15:00 +0800\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n")
    text_part = ("Content-Type: text/plain; charset=\"gbk\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                 f"{_b64_lines(body.encode('gbk'))}\r\n")
    if attachment is None:
        return (head + text_part).encode("ascii")
    name, content = attachment
    boundary = "=_dossier_test_boundary"
    return (head + f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\n{text_part}"
            f"--{boundary}\r\nContent-Type: text/plain; charset=\"utf-8\"; name=\"{_encoded_word(name, 'utf-8')}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{_encoded_word(name, 'utf-8')}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{_b64_lines(content.encode('utf-8'))}\r\n"
            f"--{boundary}--\r\n").encode("ascii")


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str


# `python -m web.cli`, with the mail commands attached even before app.py imports them.
_DOSSIER = "import web.cli.mail; from web.cli import main; main(prog_name='dossier')"


def fetch_cli(archive: Settings, dovecot: DovecotServer, folder: str, *extra: str, tls: str = "--plain") -> Run:
    """`dossier mail fetch --json` in its own process, as an operator or a timer would run it."""
    proc = subprocess.run(
        [sys.executable, "-c", _DOSSIER, "--data-dir", str(archive.data_dir), "mail", "fetch",
         "--host", dovecot.host, "--port", str(dovecot.port), "--user", dovecot.user,
         "--password-env", PASSWORD_ENV, "--folder", folder, "--json", tls, *extra],
        cwd=REPO, env={**os.environ, PASSWORD_ENV: dovecot.password}, capture_output=True, text=True, timeout=180,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def json_lines(run: Run) -> list[dict[str, object]]:
    assert run.exit_code == 0, run.stdout + run.stderr
    return [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ (a) new complaint, (d) nothing new
def test_chinese_complaint_opens_a_new_email_dossier(archive: Settings, svc: Services, dovecot: DovecotServer) -> None:
    folder = dovecot.new_folder()
    message = complaint("投诉：法律援助律师王某不作为", "我于十月申请法律援助，承办律师至今未与我联系。\n请求更换律师。",
                        attachment=("证据清单.txt", "1. 法律援助申请书回执\n2. 通话记录截图"))
    uid = dovecot.deliver(message, folder)

    (line,) = json_lines(fetch_cli(archive, dovecot, folder))

    assert line["uid"] == uid and line["created_new"] is True and line["flagged"] is True
    assert line["subject"] == "投诉：法律援助律师王某不作为" and line["sender"] == "张三"
    assert line["outcome"] in ("ok", "ok_with_warnings") and line["attachments"] == 1
    dossier = svc.records.get_dossier("test", str(line["dossier"]))
    reg = dossier.registration
    assert reg.channel is Channel.EMAIL and reg.matter == "投诉：法律援助律师王某不作为"
    assert reg.complainant == "张三" and reg.complainant_contact == "zhangsan@example.cn" and not reg.anonymous
    docs = {d.item_number: d for d in dossier.documents}
    mail_doc = docs[str(line["item_number"])]
    assert mail_doc.kind is DocumentKind.EMAIL and mail_doc.source is DocumentSource.MAIL
    assert mail_doc.channel is Channel.EMAIL and mail_doc.sha256 == sha(message)
    assert mail_doc.filename.startswith(f"{uid}-") and mail_doc.filename.endswith(".eml")
    (child,) = [d for d in docs.values() if d.parent_item == mail_doc.item_number]
    assert child.filename == "证据清单.txt" and child.source is DocumentSource.MAIL
    _, text, _ = svc.records.document_text("test", mail_doc.item_number)
    assert "承办律师至今未与我联系" in text  # the GBK body was decoded
    assert {DONE_KEYWORD, "\\Seen"} <= dovecot.flags(folder)[uid]

    # (d) A second fetch with nothing new files nothing.
    again = fetch_cli(archive, dovecot, folder)
    assert json_lines(again) == [] and "no new messages" in again.stderr
    assert len(svc.records.get_dossier("test", str(line["dossier"])).documents) == 2


# ------------------------------------------------------------------ (b) routing by number
def test_reply_naming_a_number_is_filed_into_that_dossier(archive: Settings, svc: Services, dovecot: DovecotServer) -> None:
    folder = dovecot.new_folder()
    existing = svc.ingest.register_for_intake("test", Registration(
        matter="投诉法律援助中心未按时受理", received_at=datetime.now(timezone.utc), complainant="李四"))
    reply = complaint(f"Re: {existing} 补充材料", "补充提交通话录音文字稿。", sender="李四",
                      address="lisi@example.cn", message_id="<r1@example.cn>")
    stray = complaint("关于 9901-999 号案件的投诉", "编号不存在，应当新立案卷。", sender="王五",
                      address="wangwu@example.cn", message_id="<s1@example.cn>")
    uid_reply = dovecot.deliver(reply, folder)
    uid_stray = dovecot.deliver(stray, folder)

    lines = {line["uid"]: line for line in json_lines(fetch_cli(archive, dovecot, folder))}

    assert lines[uid_reply]["dossier"] == existing and lines[uid_reply]["created_new"] is False
    (doc,) = svc.records.get_dossier("test", existing).documents
    assert doc.sha256 == sha(reply) and doc.channel is Channel.EMAIL
    assert lines[uid_stray]["created_new"] is True and lines[uid_stray]["dossier"] != existing
    assert svc.records.get_dossier("test", str(lines[uid_stray]["dossier"])).registration.complainant == "王五"
    assert all(DONE_KEYWORD in flags for flags in dovecot.flags(folder).values())


# ------------------------------------------------------------------ (c) crash between fetch and commit
_CRASHING_FETCH = """
import os, signal, sys
from zoneinfo import ZoneInfo
from ingest.channels.imap import ImapMailbox, MailIntake, number_pattern
from records.access.identity import Identity
from records.settings import load_settings
from web.bootstrap import build_services

data_dir, host, port, user, folder, kill_step, kill_uid = sys.argv[1:]
settings = load_settings(data_dir=data_dir)
services = build_services(settings)

def on_step(step, uid):
    print(step, uid, flush=True)
    if step == kill_step and uid == int(kill_uid):
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no flush, no except: a real crash

intake = MailIntake(services.ingest, services.records, services.gate, who=Identity.operator("mail-test"), on_step=on_step,
                    tz=ZoneInfo(settings.timezone),
                    numbers=number_pattern(settings.numbering.template, settings.numbering.serial_width))
with ImapMailbox(host, int(port), user=user, password=os.environ["%s"], folder=folder) as box:
    for result in intake.poll(box):
        print(result, flush=True)
""" % PASSWORD_ENV


def crashing_fetch(archive: Settings, dovecot: DovecotServer, folder: str, *, kill_step: str, kill_uid: int) -> str:
    """Run a fetch in a separate process that SIGKILLs itself after ``kill_step`` of message ``kill_uid``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_FETCH, str(archive.data_dir), dovecot.host, str(dovecot.port),
         dovecot.user, folder, kill_step, str(kill_uid)],
        cwd=REPO, env={**os.environ, PASSWORD_ENV: dovecot.password}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        try:  # the parser workers of the killed process, if any outlived it
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    text = out.decode(errors="replace")
    assert proc.returncode == -signal.SIGKILL, text + err.decode(errors="replace")
    assert text.rstrip().endswith(f"{kill_step} {kill_uid}"), text  # died right there
    return text


def test_crash_between_fetch_and_commit_loses_nothing_and_files_nothing_twice(
    archive: Settings, svc: Services, dovecot: DovecotServer,
) -> None:
    folder = dovecot.new_folder()
    existing = svc.ingest.register_for_intake("test", Registration(
        matter="投诉律师收取额外费用", received_at=datetime.now(timezone.utc), complainant="赵六"))
    messages = [
        complaint("投诉：援助律师拖延办案", "律师三个月未开庭准备。", message_id="<m1@example.cn>",
                  attachment=("聊天记录.txt", "律师：下周再说。")),
        complaint(f"回复：{existing} 收据", "附上收费收据。", sender="赵六", address="zhaoliu@example.cn",
                  message_id="<m2@example.cn>"),
        complaint("投诉：法律援助中心拒绝受理", "工作人员拒绝接收申请材料。", sender="孙七",
                  address="sunqi@example.cn", message_id="<m3@example.cn>"),
    ]
    uids = [dovecot.deliver(m, folder) for m in messages]

    # Crash 1: message 1 opened a dossier and is filed (catalogue committed), but not flagged.
    crashing_fetch(archive, dovecot, folder, kill_step="filed", kill_uid=uids[0])
    assert not any(DONE_KEYWORD in f for f in dovecot.flags(folder).values())
    assert len(svc.records.find_documents_by_sha256("test", sha(messages[0]))) == 1
    # Crash 2: message 1 is recognised and flagged, message 2 filed and flagged; message 3 has
    # just had its new dossier registered when the process dies, before anything is filed.
    out = crashing_fetch(archive, dovecot, folder, kill_step="registered", kill_uid=uids[2])
    assert "already filed as" in out
    flags = dovecot.flags(folder)
    assert DONE_KEYWORD in flags[uids[0]] and DONE_KEYWORD in flags[uids[1]] and DONE_KEYWORD not in flags[uids[2]]
    before = {s.archive_number for s in svc.records.list_dossiers("test")}

    # The normal run after the crashes.
    lines = json_lines(fetch_cli(archive, dovecot, folder))

    assert [line["uid"] for line in lines] == [uids[2]]
    assert "reused the empty dossier" in str(lines[0]["note"])
    assert {s.archive_number for s in svc.records.list_dossiers("test")} == before  # no second new dossier
    for message in messages:  # every message filed exactly once
        assert len(svc.records.find_documents_by_sha256("test", sha(message))) == 1
    email_dossiers = [s for s in svc.records.list_dossiers("test") if s.channel is Channel.EMAIL]
    assert len(email_dossiers) == 2 and all(s.documents >= 1 for s in email_dossiers)
    assert [d.sha256 for d in svc.records.get_dossier("test", existing).documents] == [sha(messages[1])]
    assert all({DONE_KEYWORD, "\\Seen"} <= f for f in dovecot.flags(folder).values())

    # (d) and once more: nothing new, nothing filed.
    assert json_lines(fetch_cli(archive, dovecot, folder)) == []
    for message in messages:
        assert len(svc.records.find_documents_by_sha256("test", sha(message))) == 1


# ------------------------------------------------------------------ processed folder, watch loop
def test_watch_moves_filed_messages_to_a_processed_folder(archive: Settings, svc: Services, dovecot: DovecotServer) -> None:
    folder = dovecot.new_folder()
    processed = f"{folder}-已归档"
    message = complaint("投诉：律师泄露隐私", "律师将我的个人信息告知他人。", message_id="<w1@example.cn>")
    dovecot.deliver(message, folder)

    lines = json_lines(fetch_cli(archive, dovecot, folder, "--move-to", processed, "--watch", "0.2", "--polls", "2"))

    assert len(lines) == 1 and lines[0]["flagged"] is True
    assert dovecot.flags(folder) == {}
    (moved,) = dovecot.flags(encode_mailbox_name(processed)).values()
    assert DONE_KEYWORD in moved
    assert len(svc.records.find_documents_by_sha256("test", sha(message))) == 1


# ------------------------------------------------------------------ TLS
def test_starttls_and_implicit_tls_verify_the_server(archive: Settings, svc: Services, dovecot: DovecotServer) -> None:
    folder = dovecot.new_folder()
    first = complaint("投诉：律师态度恶劣", "接待时出言不逊。", message_id="<t1@example.cn>")
    dovecot.deliver(first, folder)
    ca = ("--ca-file", str(dovecot.ca_file))

    (line,) = json_lines(fetch_cli(archive, dovecot, folder, *ca, tls="--starttls"))
    assert line["flagged"] is True

    second = complaint(f"Re: {line['dossier']} 补充", "补充证人名单。", message_id="<t2@example.cn>")
    dovecot.deliver(second, folder)
    (again,) = json_lines(fetch_cli(archive, dovecot, folder, "--port", str(dovecot.tls_port), *ca, tls="--ssl"))
    assert again["dossier"] == line["dossier"] and again["created_new"] is False

    untrusted = fetch_cli(archive, dovecot, folder, "--port", str(dovecot.tls_port), tls="--ssl")
    assert untrusted.exit_code != 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr


# ------------------------------------------------------------------ (f) the gate holds for mail too
def test_mail_is_filed_only_as_the_policy_allows_the_fetching_account(
        archive: Settings, svc: Services, dovecot: DovecotServer) -> None:
    """`--as` an account that may not register complaints: each message is refused (logged once,
    naming the message), nothing is registered or filed, and the message stays in the mailbox for
    a run by someone who may."""
    from records.access.identity import Identity, Role

    svc.access.add_user(Identity.operator("setup"), "clerk_a", Role.HANDLER, departments=["A"],
                        password="clerk-a-password-1")
    folder = dovecot.new_folder()
    uid = dovecot.deliver(complaint("投诉：律师收费过高", "请求退还多收的费用。", message_id="<gate@example.cn>"), folder)
    before = len(svc.access.read_audit_log(Identity.operator("setup")))

    proc = subprocess.run(
        [sys.executable, "-c", _DOSSIER, "--data-dir", str(archive.data_dir), "--as", "clerk_a", "--password-stdin",
         "mail", "fetch", "--host", dovecot.host, "--port", str(dovecot.port), "--user", dovecot.user,
         "--password-env", PASSWORD_ENV, "--folder", folder, "--json", "--plain"],
        cwd=REPO, env={**os.environ, PASSWORD_ENV: dovecot.password}, input="clerk-a-password-1\n",
        capture_output=True, text=True, timeout=180)
    (line,) = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert line["outcome"] == "error" and line["dossier"] is None and line["flagged"] is False, line
    assert svc.records.list_dossiers("test") == []
    assert DONE_KEYWORD not in dovecot.flags(folder).get(uid, set())
    fresh = [e.event for e in svc.access.read_audit_log(Identity.operator("setup"))[before:]
             if e.event.action not in ("sign_in", "read_audit_log")]
    assert [(e.actor, str(e.action), str(e.outcome)) for e in fresh] == [("clerk_a", "register", "refused")]
    assert fresh[0].details["message_id"] == "<gate@example.cn>"

    # The console (the operator) may: the message is registered, filed and flagged; one entry each.
    (line,) = json_lines(fetch_cli(archive, dovecot, folder))
    assert line["created_new"] is True and line["flagged"] is True
