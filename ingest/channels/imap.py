"""The mail channel: poll an IMAP mailbox and file each new message into a dossier.

Two parts:

* ``ImapMailbox`` is the adapter: stdlib ``imaplib`` (plain, STARTTLS or implicit TLS), login,
  select, search, fetch, flag, move. It translates ``imaplib``/socket errors into
  ``MailboxError``.
* ``MailIntake`` is the use case. For every message in the folder that lacks the done keyword
  (``$DossierFiled``) and is not ``\\Deleted``, it

  1. fetches the raw RFC 822 bytes by UID with ``BODY.PEEK[]`` (``\\Seen`` stays untouched);
  2. routes it: an archive number of the configured scheme in the Subject that names an open
     dossier wins; otherwise it registers a new dossier (channel ``email``; matter = subject,
     complainant = the From display name or address, receipt time = the message's arrival
     time in the mailbox, IMAP INTERNALDATE);
  3. files the whole message with ``IngestService.ingest_bytes`` (its attachments become child
     documents); that call returns only after the catalogue commit;
  4. only then sets ``\\Seen $DossierFiled`` on the message, and optionally moves it to a
     processed folder.

Crash safety. A crash anywhere before step 4 leaves the message without the keyword, so the next
run fetches it again, byte for byte the same. A message already filed into a routed dossier
comes back as outcome ``duplicate``. A message that had opened a new dossier is found again by
its SHA-256 anywhere in the archive (``find_documents_by_sha256``) instead of opening a second
dossier. If the crash fell between registering that dossier and filing into it, the empty
dossier registered from this very message (same matter, complainant and receipt time, channel
email, no documents) is reused. A crash after step 4 but before the move only leaves a flagged
message in the folder, which the search skips.

Layering: ``MailIntake`` is given its services (the ingest pipeline, the records core, the
access gate) and imports them for typing only, so loading this module loads none of them.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import imaplib
import logging
import re
import ssl
import string
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from email.header import Header, decode_header
from email.utils import parseaddr, parsedate_to_datetime
from typing import TYPE_CHECKING, Literal

from ingest.errors import IngestError
from records.access.identity import Identity, RequestContext
from records.errors import DossierError, DossierNotFoundError, UnavailableError
from records.model import OPEN_STATES, Channel, DocumentSource, DossierState, Registration
from records.clock import system_clock

if TYPE_CHECKING:  # the services themselves are handed in; typing needs no import of them at run time
    from ingest.service import IngestResult, IngestService
    from records.access.gate import Gate
    from records.service import RecordsService

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 143, "starttls": 143, "ssl": 993}
DONE_KEYWORD = "$DossierFiled"
NO_SUBJECT = "(no subject)"
UNKNOWN_SENDER = "未知 (to be completed)"


class MailboxError(IngestError, UnavailableError):
    """The mailbox cannot be reached, refused a command, or answered something unusable.

    Unavailable, whatever the cause: the archive cannot read the mail now, and nothing about
    the messages themselves is wrong (exit 9, HTTP 503).
    """

    code = "mailbox_unavailable"


# ---------------------------------------------------------------------------------------------
# The adapter: one IMAP connection with one selected folder
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    raw: bytes
    internal_date: datetime | None


_ATOM_SPECIALS = set('(){ %*"\\]') | {chr(c) for c in range(0x20)} | {"\x7f"}


class ImapMailbox:
    """One logged-in IMAP connection with ``folder`` selected read-write.

    Use as a context manager; ``close()`` logs out. Every command failure raises MailboxError.
    """

    def __init__(
        self, host: str, port: int | None = None, *, user: str, password: str, folder: str = "INBOX",
        security: Security = "none", ssl_context: ssl.SSLContext | None = None, timeout: float = 60.0,
    ) -> None:
        if security not in DEFAULT_PORTS:
            raise MailboxError(f"unknown IMAP security {security!r} (none, starttls or ssl)")
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.folder = folder
        self._user = user
        self._password = password
        self._security = security
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._conn: imaplib.IMAP4 | None = None
        self._keywords_ok = True
        self._created: set[str] = set()
        self.uidvalidity: int | None = None

    # -------------------------------------------------------------- connection
    def open(self) -> ImapMailbox:
        where = f"{self.host}:{self.port}"
        try:
            if self._security == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=self._ssl_context or ssl.create_default_context(),
                    timeout=self._timeout)
            else:
                conn = imaplib.IMAP4(self.host, self.port, timeout=self._timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"cannot connect to IMAP server {where}: {_reason(exc)}") from exc
        self._conn = conn
        try:
            if self._security == "starttls":
                conn.starttls(self._ssl_context or ssl.create_default_context())
            conn.login(self._user, self._password)
            # imaplib keeps the pre-login list; MOVE and UIDPLUS are often announced only now.
            typ, caps = conn.capability()
            if typ == "OK" and caps and isinstance(caps[-1], bytes):
                conn.capabilities = tuple(caps[-1].decode("ascii", "replace").upper().split())
            typ, data = conn.select(_quote_mailbox(self.folder))
            if typ != "OK":
                raise MailboxError(f"cannot select folder {self.folder!r} on {where}: {_text(data)}")
            _, flags = conn.response("PERMANENTFLAGS")
            permanent = _text(flags)
            self._keywords_ok = "\\*" in permanent or DONE_KEYWORD in permanent
            _, validity = conn.response("UIDVALIDITY")
            self.uidvalidity = int(_text(validity) or 0) or None
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
            self.close()
            raise MailboxError(f"IMAP {where} as {self._user}: {_reason(exc)}") from exc
        except MailboxError:
            self.close()
            raise
        return self

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            try:
                conn.shutdown()
            except OSError:
                pass

    def __enter__(self) -> ImapMailbox:
        return self.open() if self._conn is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def keywords_supported(self) -> bool:
        """Whether the folder stores custom keywords permanently (PERMANENTFLAGS has ``\\*``)."""
        return self._keywords_ok

    # -------------------------------------------------------------- commands
    def pending_uids(self, keyword: str = DONE_KEYWORD) -> list[int]:
        """UIDs of messages without ``keyword`` and not ``\\Deleted``, oldest first."""
        _check_keyword(keyword)
        data = self._uid("SEARCH", "UNKEYWORD", keyword, "UNDELETED")
        return sorted(int(n) for n in _text(data).split() if n.isdigit())

    def fetch(self, uid: int) -> FetchedMessage | None:
        """The raw message by UID without setting ``\\Seen``; None if it was expunged meanwhile."""
        data = self._uid("FETCH", str(uid), "(UID INTERNALDATE BODY.PEEK[])")
        # imaplib gives (text before the literal, literal) tuples, then the text after it as bytes;
        # unsolicited FETCH responses (flag changes by other clients) may be interleaved.
        candidates: list[tuple[bytes, bytes]] = []
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                candidates.append((bytes(part[0]), bytes(part[1])))
            elif isinstance(part, bytes) and candidates:
                candidates[-1] = (candidates[-1][0] + b" " + part, candidates[-1][1])
        for head, raw in candidates:
            if b"BODY[]" in head and _uid_of(head) in (uid, None):
                found = re.search(rb'INTERNALDATE "([^"]+)"', head)
                return FetchedMessage(uid, raw, _internal_date(found.group(1).decode()) if found else None)
        return None

    def mark_done(self, uid: int, keyword: str = DONE_KEYWORD) -> None:
        """Set ``\\Seen`` and ``keyword`` on the message (silently; checked by the reply)."""
        _check_keyword(keyword)
        flags = f"(\\Seen {keyword})" if self._keywords_ok else "(\\Seen)"
        self._uid("STORE", str(uid), "+FLAGS.SILENT", flags)

    def move(self, uid: int, folder: str) -> None:
        """Move the message to ``folder`` (created on first use); MOVE, else COPY + expunge."""
        conn = self._require()
        target = _quote_mailbox(folder)
        if folder not in self._created:
            try:
                conn.create(target)  # NO when it exists already: fine
            except (OSError, imaplib.IMAP4.error) as exc:
                raise MailboxError(f"IMAP CREATE {folder!r}: {_reason(exc)}") from exc
            self._created.add(folder)
        if "MOVE" in conn.capabilities:
            self._uid("MOVE", str(uid), target)
            return
        self._uid("COPY", str(uid), target)
        self._uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
        if "UIDPLUS" in conn.capabilities:
            self._uid("EXPUNGE", str(uid))
        # Without UIDPLUS the \Deleted copy stays until someone expunges; the search skips it.

    # -------------------------------------------------------------- helpers
    def _require(self) -> imaplib.IMAP4:
        if self._conn is None:
            raise MailboxError("the mailbox is not open")
        return self._conn

    def _uid(self, command: str, *args: str) -> list[object]:
        conn = self._require()
        try:
            typ, data = conn.uid(command, *args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"IMAP UID {command} on {self.folder!r}: {_reason(exc)}") from exc
        if typ != "OK":
            raise MailboxError(f"IMAP UID {command} on {self.folder!r} refused: {_text(data)}")
        return list(data)


def _check_keyword(keyword: str) -> None:
    if not keyword or any(c in _ATOM_SPECIALS or ord(c) > 0x7E for c in keyword) or keyword.startswith("\\"):
        raise MailboxError(f"{keyword!r} is not a valid IMAP keyword")


def _reason(exc: BaseException) -> str:
    """imaplib puts the server's bytes into its messages as ``b'...'``; show them as text."""
    text = str(exc)
    found = re.fullmatch(r"""b(['"])(.*)\1""", text, re.DOTALL)
    return found.group(2) if found else text


def _uid_of(head: bytes) -> int | None:
    found = re.search(rb"\bUID (\d+)", head)
    return int(found.group(1)) if found else None


def _text(data: object) -> str:
    if isinstance(data, (list, tuple)):
        return " ".join(_text(d) for d in data if d is not None)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return "" if data is None else str(data)


_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}


def _internal_date(text: str) -> datetime | None:
    """``23-Nov-2026 10:33:31 +0800`` (RFC 3501 date-time), independent of the C locale."""
    found = re.fullmatch(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)", text)
    if not found or found.group(2).title() not in _MONTHS:
        return None
    d, mon, y, hh, mm, ss, sign, oh, om = found.groups()
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    return datetime(int(y), _MONTHS[mon.title()], int(d), int(hh), int(mm), int(ss), tzinfo=timezone(offset))


def _quote_mailbox(name: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 §5.1.3)."""
    encoded = encode_mailbox_name(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_mailbox_name(name: str) -> str:
    """A folder name in IMAP modified UTF-7 (RFC 3501 §5.1.3): ``日本語`` → ``&ZeVnLIqe-``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            b64 = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append(f"&{b64}-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Reading the few headers routing needs
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MailHeaders:
    message_id: str | None
    subject: str
    sender_name: str | None
    sender_address: str | None
    date: datetime | None


def read_headers(raw: bytes) -> MailHeaders:
    """Message-ID, Subject, From and Date, decoded (RFC 2047, or raw 8-bit UTF-8/GB18030)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = " ".join(_decode(msg.get("Subject")).split())
    sender = msg.get("From")
    # Split the address before decoding, so a decoded display name with a comma stays one name.
    name, address = parseaddr(sender if isinstance(sender, str) else _decode(sender))
    name = _decode(name)
    sent: datetime | None = None
    try:
        sent = parsedate_to_datetime(_decode(msg.get("Date"))) if msg.get("Date") else None
    except (TypeError, ValueError, IndexError):
        sent = None
    if sent is not None and sent.tzinfo is None:
        sent = None  # "-0000": the sender's zone is unknown
    message_id = _decode(msg.get("Message-ID")).strip() or None
    return MailHeaders(message_id, subject, " ".join(name.split()) or None, address.strip() or None, sent)


def _decode(value: str | Header | None) -> str:
    if value is None:
        return ""
    try:
        parts = decode_header(value)
    except Exception:  # noqa: BLE001 - a malformed header is text we show as it is
        return str(value)
    text: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            text.append(chunk)
            continue
        text.append(_bytes_text(chunk, None if charset in (None, "unknown-8bit") else charset))
    return "".join(text)


def _bytes_text(data: bytes, charset: str | None) -> str:
    # Declared GB2312/GBK are decoded as their superset GB18030 (senders under-declare).
    aliases = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030"}
    tries = [aliases.get(charset.lower(), charset)] if charset else []
    tries += ["utf-8", "gb18030"]
    for cs in tries:
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def number_pattern(template: str = "{yy}{mm}-{serial}", serial_width: int = 3) -> re.Pattern[str]:
    """A regex finding archive numbers of the scheme ``template`` inside free text (a Subject)."""
    parts: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name == "yyyy":
            parts.append(r"\d{4}")
        elif name == "yy":
            parts.append(r"\d{2}")
        elif name == "mm":
            parts.append(r"(?:0[1-9]|1[0-2])")
        elif name == "serial":
            parts.append(rf"\d{{{serial_width},}}")
        elif name is not None:
            raise ValueError(f"unknown field {name!r} in numbering template {template!r}")
    # Not glued to other ASCII letters/digits; CJK text may touch it ("2611-007补充材料").
    return re.compile(r"(?<![0-9A-Za-z])" + "".join(parts) + r"(?![0-9])")


def eml_filename(uid: int, subject: str) -> str:
    """``<uid>-<subject>.eml`` with path and control characters removed, at most ~80 characters."""
    cleaned = "".join(" " if unicodedata.category(c)[0] == "C" or c in '/\\:*?"<>|' else c for c in subject)
    cleaned = "_".join(cleaned.split()).strip("._") or "message"
    return f"{uid}-{cleaned[:72]}.eml"


# ---------------------------------------------------------------------------------------------
# The use case
# ---------------------------------------------------------------------------------------------

# Mail intake is composed (web.cli.mail) from the archive's own services: the ingest pipeline,
# the records core for routing lookups, and the gate that decides and logs each filing.

@dataclass(frozen=True, slots=True)
class MailResult:
    """What happened to one message (one line, or one JSON object, of `dossier mail fetch`)."""

    uid: int
    message_id: str | None
    subject: str
    sender: str | None
    dossier: str | None
    created_new: bool               # this run registered the dossier
    outcome: str                    # an IngestOutcome value, or "error"
    item_number: str | None
    attachments: int = 0            # child documents filed from this message (all depths)
    flagged: bool = False           # marked done on the server
    note: str | None = None         # routing explanation or the error


Step = Literal["fetched", "registered", "filed", "flagged"]


class MailIntake:
    """Files the new messages of one mailbox folder, each exactly once (see the module docstring).

    ``on_step(step, uid)`` is called after each step of a message; tests use it to kill the
    process at a precise point. ``clock`` gives aware "now" (receipt times are never later).
    """

    def __init__(
        self, ingest: IngestService, records: RecordsService, gate: Gate, *, who: Identity,
        numbers: re.Pattern[str] | None = None, tz: tzinfo = timezone.utc, done_keyword: str = DONE_KEYWORD,
        move_to: str | None = None, clock: Callable[[], datetime] = system_clock,
        on_step: Callable[[Step, int], None] | None = None, context: RequestContext = RequestContext(),
        details: Mapping[str, str] | None = None,
    ) -> None:
        _check_keyword(done_keyword)
        self._ingest = ingest
        self._records = records
        self._gate = gate
        self._who = who
        self._actor = who.name
        self._context = context
        self._details = dict(details or {})
        self._numbers = numbers or number_pattern()
        self._tz = tz
        self._keyword = done_keyword
        self._move_to = move_to
        self._clock = clock
        self._on_step = on_step or (lambda step, uid: None)

    def poll(self, mailbox: ImapMailbox, *, limit: int | None = None) -> Iterator[MailResult]:
        """File every pending message of the open mailbox (at most ``limit``), yielding each result.

        Raises:
            MailboxError: the server failed; messages already yielded are filed and flagged.
        """
        if not mailbox.keywords_supported and not self._move_to:
            raise MailboxError(f"folder {mailbox.folder!r} cannot store the keyword {self._keyword}; "
                               "give a processed folder to move filed messages to")
        uids = mailbox.pending_uids(self._keyword)
        for uid in uids[:limit] if limit is not None else uids:
            result = self.handle(mailbox, uid)
            if result is not None:
                yield result

    def handle(self, mailbox: ImapMailbox, uid: int) -> MailResult | None:
        """Fetch, route, file and then flag one message; None if it vanished from the folder."""
        fetched = mailbox.fetch(uid)
        if fetched is None:
            return None
        self._on_step("fetched", uid)
        head = read_headers(fetched.raw)
        sender = head.sender_name or head.sender_address
        try:
            dossier, created, note = self._route(fetched, head)
            self._gate.authorize_filing(self._who, dossier, context=self._context,
                                        details=self._about(uid, head))
            filed = self._ingest.ingest_bytes(
                self._actor, fetched.raw, eml_filename(uid, head.subject), dossier=dossier,
                channel=Channel.EMAIL, source=DocumentSource.MAIL)
        except MailboxError:
            raise
        except DossierError as exc:  # one bad message never stops the rest; it stays pending
            log.warning("mail uid %s (%s): not filed: %s", uid, head.message_id, exc)
            return MailResult(uid, head.message_id, head.subject, sender, None, False, "error", None, note=str(exc))
        self._on_step("filed", uid)
        # The catalogue commit has returned: only now may the server learn the message is done.
        mailbox.mark_done(uid, self._keyword)
        if self._move_to:
            mailbox.move(uid, self._move_to)
        self._on_step("flagged", uid)
        outcome = getattr(filed.outcome, "value", str(filed.outcome))
        log.info("mail uid %s (%s) -> %s %s %s", uid, head.message_id, dossier, filed.item_number, outcome)
        return MailResult(uid, head.message_id, head.subject, sender, dossier, created, outcome, filed.item_number,
                          attachments=_count(filed.children), flagged=True, note=note or filed.message)

    # -------------------------------------------------------------- routing
    def _route(self, fetched: FetchedMessage, head: MailHeaders) -> tuple[str, bool, str | None]:
        """(dossier, registered now?, note). Registers a new dossier only when nothing else fits."""
        closed: list[str] = []
        for number in dict.fromkeys(self._numbers.findall(head.subject)):
            try:
                info = self._records.get_dossier(self._actor, number)
            except DossierNotFoundError:
                continue
            if info.state in OPEN_STATES:
                return info.archive_number, False, f"subject names {info.archive_number}"
            closed.append(f"{info.archive_number} ({info.state})")
        sha256 = hashlib.sha256(fetched.raw).hexdigest()
        already = self._records.find_documents_by_sha256(self._actor, sha256)
        if already:
            number, item = already[0]
            return number, False, f"already filed as {item} (recovered)"
        registration = self._registration(fetched, head)
        orphan = self._orphan(registration)
        note = f"subject names closed {', '.join(closed)}; " if closed else ""
        if orphan is not None:
            return orphan, True, note + "reused the empty dossier registered for this message (recovered)"
        number = self._gate.register(self._who, registration, context=self._context,
                                     details=self._about(fetched.uid, head)).archive_number
        self._on_step("registered", fetched.uid)
        return number, True, (note + "new dossier") if note else "new dossier"

    def _about(self, uid: int, head: MailHeaders) -> dict[str, str]:
        """What the access-log entry says of the message (never its content)."""
        return {**self._details, "channel": "mail", "uid": str(uid), "message_id": head.message_id or "-"}

    def _registration(self, fetched: FetchedMessage, head: MailHeaders) -> Registration:
        now = self._clock()
        # Receipt (INT-F-08) is when the message reached our mailbox; the Date header is only the
        # sender's claim. Both are fixed per message, so a re-run builds the same registration.
        received = fetched.internal_date or head.date or now
        received = min(received, now).astimezone(timezone.utc)
        return Registration(
            matter=head.subject or NO_SUBJECT,
            received_at=received,
            channel=Channel.EMAIL,
            complainant=head.sender_name or head.sender_address or UNKNOWN_SENDER,
            complainant_contact=head.sender_address,
            anonymous=False,
        )

    def _orphan(self, reg: Registration) -> str | None:
        """A dossier this very message registered before a crash kept it from being filed."""
        month = reg.received_at.astimezone(self._tz).strftime("%Y-%m")
        # Matter and complainant are sealed in the catalogue (issue #12): the summaries carry them
        # opened, so they are compared here, in Python, never in an SQL filter.
        for s in self._records.list_dossiers(self._actor, state=DossierState.REGISTERED, month=month):
            if (s.documents == 0 and s.channel == Channel.EMAIL and s.matter == reg.matter.strip()
                    and s.complainant == reg.complainant and _same_instant(s.received_at, reg.received_at)):
                return s.archive_number
        return None


def _same_instant(a: datetime, b: datetime) -> bool:
    if a.tzinfo is None:
        a = a.replace(tzinfo=timezone.utc)
    return abs((a - b).total_seconds()) < 1


def _count(children: Sequence[IngestResult]) -> int:
    return sum(1 + _count(c.children) for c in children)


__all__ = [
    "DONE_KEYWORD", "FetchedMessage", "ImapMailbox", "MailHeaders", "MailIntake", "MailResult", "MailboxError",
    "Security", "eml_filename", "encode_mailbox_name", "number_pattern", "read_headers",
]
