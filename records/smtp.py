"""Outgoing e-mail over SMTP, for the daily deadline digest (``records.reminders``, TL-36).

The standard library's ``smtplib`` and ``email.message`` do all of it (no new dependency): one
connection is opened on the first message and reused; a message that fails drops the connection,
so the next one starts afresh and one bad recipient or a broken connection costs only its own
digest (the caller collects the failures and reports them at the end).

Security follows the IMAP intake's rule (``dossier mail fetch``): ``ssl`` (implicit TLS),
``starttls``, or ``none``; unset, it is ``starttls`` except for a loopback host (a local relay),
where it is ``none``. A password is never sent over a plain connection to a remote host.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from email.message import EmailMessage
from types import TracebackType

from records.errors import ConfigurationError, RecordsError, UnavailableError
from records.settings import ReminderSettings

__all__ = ["DEFAULT_PORTS", "MailDeliveryError", "SmtpMailer", "is_loopback"]

DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class MailDeliveryError(RecordsError, UnavailableError):
    """A message could not be handed to the SMTP server (refused, unreachable, timed out)."""

    code = "mail_delivery_failed"

    def __init__(self, recipient: str, cause: str) -> None:
        super().__init__(f"mail to {recipient} not sent: {cause}")
        self.recipient, self.cause = recipient, cause


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: a relay on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SmtpMailer:
    """Sends messages through the configured SMTP server; use as a context manager (it closes the connection).

    Raises:
        ConfigurationError: on construction, when no server or sender is configured, or a
            password would travel unencrypted to a remote host.
    """

    def __init__(self, settings: ReminderSettings) -> None:
        if not settings.smtp_host:
            raise ConfigurationError("no SMTP server: set reminders.smtp_host (and reminders.sender)")
        if not settings.sender:
            raise ConfigurationError("no sender address: set reminders.sender")
        self.host = settings.smtp_host
        self.security = settings.smtp_security or ("none" if is_loopback(self.host) else "starttls")
        self.port = settings.smtp_port or DEFAULT_PORTS[self.security]
        if settings.smtp_user and self.security == "none" and not is_loopback(self.host):
            raise ConfigurationError(f"the SMTP password would go to {self.host} unencrypted: "
                                     "set reminders.smtp_security to 'starttls' or 'ssl'")
        self._settings = settings
        self._conn: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server (its To: header names the recipients).

        Raises:
            MailDeliveryError: refused or not reachable; the connection is dropped, the next
                message opens a new one.
        """
        to = str(message["To"])
        try:
            if self._conn is None:
                self._conn = self._connect()
            refused = self._conn.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailDeliveryError(to, _why(exc)) from exc
        if refused:  # some of several recipients refused: the message is undelivered to them
            raise MailDeliveryError(", ".join(refused), "recipient refused")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        timeout = s.smtp_timeout_seconds
        context = None
        if self.security != "none":
            try:
                context = ssl.create_default_context(cafile=str(s.smtp_ca_file) if s.smtp_ca_file else None)
            except (ssl.SSLError, OSError) as exc:
                raise ConfigurationError(f"cannot use {s.smtp_ca_file} as CA bundle: {exc}") from exc
        conn: smtplib.SMTP
        if self.security == "ssl":
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=timeout)
        try:
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.smtp_user:
                conn.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
        except BaseException:
            conn.close()
            raise
        return conn


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{who}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for who, (code, msg) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"
