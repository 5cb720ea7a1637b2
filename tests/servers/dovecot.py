"""Starts a private Dovecot IMAP server on 127.0.0.1 for the test session.

The ``dovecot`` binary comes from Debian's ``dovecot-imapd``; the system daemon is never used or
touched. The instance runs in the foreground (``dovecot -F -c <tmp>/dovecot.conf``) with every
path (base_dir, state_dir, log, maildirs) under one temporary directory, and one passwd-file
user. Login is allowed in plaintext (loopback only), after STARTTLS, and on an implicit-TLS
port, with a throw-away self-signed certificate for 127.0.0.1 (``ca_file``) so the client's TLS
options are tested too. Messages are delivered with IMAP APPEND (no SMTP).
A server that does not start is a test failure with its log, never a skip.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

USER = "dossier"
PASSWORD = "dossier-test-pw"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "imap: needs the Dovecot IMAP server started by tests/servers/dovecot.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class DovecotServer:
    """A running Dovecot: where it listens, the test user, and helpers to put mail in and look."""

    host: str
    port: int                 # plaintext, STARTTLS offered
    tls_port: int             # implicit TLS (IMAPS)
    ca_file: Path             # the self-signed certificate both present
    user: str
    password: str
    root: Path

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=30)
        conn.login(self.user, self.password)
        return conn

    def new_folder(self) -> str:
        """A folder no other test uses (tests share the one server and user)."""
        name = f"t-{uuid.uuid4().hex[:12]}"
        conn = self.connect()
        try:
            typ, data = conn.create(name)
            assert typ == "OK", data
        finally:
            conn.logout()
        return name

    def deliver(self, message: bytes, folder: str = "INBOX", *, flags: str = "",
                when: datetime | None = None) -> int:
        """Put one RFC 822 message into ``folder`` by IMAP APPEND; returns its UID (UIDPLUS)."""
        conn = self.connect()
        try:
            stamp = imaplib.Time2Internaldate(when or datetime.now(timezone.utc))
            typ, data = conn.append(f'"{folder}"', f"({flags})" if flags else None, stamp, message)
            assert typ == "OK", data
            text = data[0].decode() if data and isinstance(data[0], bytes) else ""
            # "[APPENDUID <uidvalidity> <uid>] Append completed."
            return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]")) if "APPENDUID" in text else 0
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID → flags of every message in ``folder`` (read-only look: EXAMINE)."""
        conn = self.connect()
        try:
            typ, _ = conn.select(f'"{folder}"', readonly=True)
            assert typ == "OK"
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            out: dict[int, set[str]] = {}
            for line in data:
                if not isinstance(line, bytes):
                    continue
                text = line.decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                out[uid] = set(text.split("FLAGS (", 1)[1].split(")", 1)[0].split())
            return out
        finally:
            conn.logout()


def _accounts() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) fitting whoever runs the tests.

    As root, Dovecot drops privileges: its own unprivileged users do the internal and login work
    and mail is accessed as ``nobody`` (Dovecot refuses uid 0 for mail). As anyone else, every
    process runs as that user ("non-root Dovecot").
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, os.geteuid(), os.getegid()

    def user(*names: str) -> str:
        for name in names:
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        pytest.fail(f"none of the users {names} exists; Dovecot cannot drop root privileges")

    mail = pwd.getpwnam(user("nobody"))
    return user("dovecot", "nobody"), user("dovenull", "nobody"), mail.pw_uid, mail.pw_gid


def _self_signed(tls: Path) -> None:
    """A certificate for 127.0.0.1/localhost that is its own CA (valid one day)."""
    from datetime import timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dossier test IMAP")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    tls.mkdir(mode=0o700)
    (tls / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tls / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))


def _config(root: Path, port: int, tls_port: int, internal: str, login: str) -> str:
    internal_group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
    return f"""# Private test instance (tests/servers/dovecot.py); nothing outside {root} is used.
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = dossier-test-{port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


def _accepts_login(port: int) -> bool:
    try:
        conn = imaplib.IMAP4("127.0.0.1", port, timeout=2)
    except OSError:
        return False
    try:
        conn.login(USER, PASSWORD)
        conn.logout()
        return True
    except (imaplib.IMAP4.error, OSError):
        return False


def _log(root: Path) -> str:
    parts = []
    for name in ("dovecot.log", "stdout.log"):
        f = root / name
        if f.exists():
            parts.append(f"--- {name}\n{f.read_text(errors='replace')[-4000:]}")
    return "\n".join(parts)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A private Dovecot IMAP server on 127.0.0.1 for the session (host, port, user, password)."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").is_file() else None)
    if binary is None:
        pytest.fail("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="dossier-dovecot-"))
    root.chmod(0o755)  # mail processes run unprivileged and must reach their maildir
    internal, login, uid, gid = _accounts()
    for sub in ("mail", "home"):
        (root / sub).mkdir()
        if os.geteuid() == 0:
            os.chown(root / sub, uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/home::\n")
    (root / "passwd").chmod(0o644)
    port, tls_port = _free_port(), _free_port()
    while tls_port == port:
        tls_port = _free_port()
    _self_signed(root / "tls")
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, tls_port, internal, login))
    with open(root / "stdout.log", "wb") as out:
        proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=root, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not _accepts_login(port):
            if proc.poll() is not None:
                pytest.fail(f"dovecot exited with {proc.returncode}:\n{_log(root)}")
            if time.monotonic() > deadline:
                pytest.fail(f"dovecot did not accept a login within 30 s:\n{_log(root)}")
            time.sleep(0.1)
        yield DovecotServer("127.0.0.1", port, tls_port, root / "tls" / "cert.pem", USER, PASSWORD, root)
    finally:
        proc.terminate()  # the master stops its children and removes its sockets
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # any child the master left behind
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(root, ignore_errors=True)
