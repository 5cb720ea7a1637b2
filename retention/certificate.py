"""Disposition certificates: signed JSON and its PDF rendering (RET, ARC-2; issue #6 part 4).

A certificate proves what a disposition did: its id and action, each dossier with the rule it
was disposed under and its dates, each document's item number, size and SHA-256, the approvals,
who executed it and when. It holds numbers and hashes only, never document content.

The JSON file *is* the signed object: its bytes are the canonical serialisation (sorted keys, no
whitespace, UTF-8) of the body plus a ``signature`` member; the Ed25519 signature (the archive's
key, the one that signs access-log checkpoints) covers a domain prefix and the canonical body
without that member. Verification re-serialises what it read and refuses anything that is not
byte-for-byte canonical, so changing any single byte of the file is detected. The PDF is a
human-readable copy that prints the JSON's SHA-256 and the signature, and names that SHA-256 in
its metadata (Subject), so verifying the PDF verifies the JSON it belongs to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from records.pdf_fonts import register_cjk_font
from records.errors import VerificationFailedError
from retention.errors import RetentionError
from retention.model import Approval, CertificateRef
from records.durable import write_atomic

__all__ = [
    "CertificateInvalidError", "CertifiedDossier", "CertifiedItem", "Signer", "certificate_paths",
    "issue_certificate", "load_public_key", "render_pdf", "verify_certificate",
]

FORMAT = "dossier-disposition-certificate"
VERSION = 1
_DOMAIN = b"dossier disposition certificate v1\n"
_PDF_SUBJECT = "dossier-disposition-certificate sha256:"

Signer = Callable[[bytes], tuple[str, str]]
"""Signs a domain-prefixed message with the archive's key: returns (key id, hex signature)."""


class CertificateInvalidError(RetentionError, VerificationFailedError):
    """A disposition certificate failed verification (altered, unsigned, or another key)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"certificate {path}: {problem}")
        self.path = str(path)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class CertifiedItem:
    item_number: str
    kind: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class CertifiedDossier:
    archive_number: str
    rule: str
    received_on: date | None
    closed_on: date | None
    sealed_on: date | None
    disposed_on: date | None
    items: tuple[CertifiedItem, ...]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _day(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def certificate_paths(out_dir: Path, disposition_id: str) -> tuple[Path, Path]:
    """Where the JSON and the PDF of a disposition's certificate live."""
    stem = f"disposition-{disposition_id}"
    return out_dir / f"{stem}.json", out_dir / f"{stem}.pdf"


def issue_certificate(
    *, disposition_id: str, action: str, actor: str, approvals: Sequence[Approval],
    dossiers: Sequence[CertifiedDossier], issued_at: datetime, signer: Signer, out_dir: Path,
    archive_name: str, transfer: Mapping[str, str | int] | None = None,
) -> CertificateRef:
    """Sign and write a disposition's certificate (JSON, then PDF) under ``out_dir``.

    Idempotent per disposition: an existing JSON certificate is kept as it is (a re-run after a
    crash only renders a missing PDF), so a disposition never has two different certificates.
    """
    json_path, pdf_path = certificate_paths(out_dir, disposition_id)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if json_path.exists():
        data = json_path.read_bytes()
    else:
        body: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "disposition_id": disposition_id, "action": action,
            "archive": archive_name, "executed_by": actor,
            "issued_at": issued_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "approvals": [{"actor": a.actor, "role": a.role, "step": a.step,
                           "at": a.at.astimezone(timezone.utc).isoformat(timespec="seconds")} for a in approvals],
            "dossiers": [{
                "archive_number": d.archive_number, "rule": d.rule, "received_on": _day(d.received_on),
                "closed_on": _day(d.closed_on), "sealed_on": _day(d.sealed_on), "disposed_on": _day(d.disposed_on),
                "items": [{"item_number": i.item_number, "kind": i.kind, "media_type": i.media_type, "size": i.size,
                           "sha256": i.sha256} for i in d.items],
            } for d in dossiers],
            "totals": {"dossiers": len(dossiers), "items": sum(len(d.items) for d in dossiers),
                       "bytes": sum(i.size for d in dossiers for i in d.items)},
        }
        if transfer is not None:
            body["transfer"] = dict(transfer)
        key_id, signature = signer(_DOMAIN + _canonical(body))
        data = _canonical({**body, "signature": {"algorithm": "Ed25519", "key_id": key_id, "value": signature}})
        write_atomic(json_path, data)
    digest = hashlib.sha256(data).hexdigest()
    if not pdf_path.exists():
        write_atomic(pdf_path, render_pdf(json.loads(data), digest))
    return CertificateRef(json_path=json_path, pdf_path=pdf_path, sha256=digest)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file: the ``.pub`` beside the signing key, or the key itself."""
    raw = path.read_bytes()
    try:
        key: object = serialization.load_pem_public_key(raw)
    except ValueError:
        key = serialization.load_pem_private_key(raw, password=None).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise CertificateInvalidError(path, "not an Ed25519 key")
    return key


def verify_certificate(path: Path, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check a certificate's JSON against the archive's public key; returns its content.

    Given the PDF, the JSON beside it is verified and must be the one whose SHA-256 the PDF names.

    Raises:
        CertificateInvalidError: unreadable, not canonical (so altered), unsigned, the signature
            does not verify, or the PDF does not belong to that JSON.
    """
    if path.suffix.lower() == ".pdf":
        named = _pdf_names(path)
        json_path = path.with_suffix(".json")
        try:
            actual = hashlib.sha256(json_path.read_bytes()).hexdigest()
        except OSError as exc:
            raise CertificateInvalidError(path, f"its JSON certificate {json_path.name} is unreadable") from exc
        if named != actual:
            raise CertificateInvalidError(path, f"names JSON sha256 {named[:12]}…, but {json_path.name} "
                                                f"has {actual[:12]}…")
        return verify_certificate(json_path, public_key)
    try:
        data = path.read_bytes()
        cert = json.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CertificateInvalidError(path, f"unreadable: {exc}") from exc
    if not isinstance(cert, dict) or cert.get("format") != FORMAT:
        raise CertificateInvalidError(path, "not a disposition certificate")
    if _canonical(cert) != data:
        raise CertificateInvalidError(path, "not in canonical form: the file was altered")
    sig = cert.pop("signature", None)
    if not isinstance(sig, dict) or sig.get("algorithm") != "Ed25519" or not isinstance(sig.get("value"), str):
        raise CertificateInvalidError(path, "no Ed25519 signature")
    try:
        public_key.verify(bytes.fromhex(sig["value"]), _DOMAIN + _canonical(cert))
    except (InvalidSignature, ValueError) as exc:
        raise CertificateInvalidError(path, "the signature does not match (altered, or signed by another key)") from exc
    cert["signature"] = sig
    return dict(cert)


def _pdf_names(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        subject = str((PdfReader(path).metadata or {}).get("/Subject", ""))
    except (OSError, PdfReadError, ValueError) as exc:
        raise CertificateInvalidError(path, f"unreadable PDF: {exc}") from exc
    if not subject.startswith(_PDF_SUBJECT):
        raise CertificateInvalidError(path, "not a disposition certificate PDF")
    return subject[len(_PDF_SUBJECT):]


def render_pdf(cert: Mapping[str, Any], json_sha256: str) -> bytes:
    """The certificate as a PDF (STSong-Light for Chinese), carrying the JSON's SHA-256 and signature."""
    import io

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    normal = ParagraphStyle("n", fontName=font, fontSize=9, leading=12)
    small = ParagraphStyle("s", fontName=font, fontSize=7, leading=9)
    title = ParagraphStyle("t", fontName=font, fontSize=15, leading=20, spaceAfter=6)
    action = str(cert.get("action"))
    heading = {"destroy": "档案销毁证明 Certificate of destruction",
               "transfer": "档案移交证明 Certificate of transfer"}.get(action, "处置证明 Disposition certificate")
    flow: list[Any] = [Paragraph(heading, title)]
    facts = [("处置编号 Disposition", cert.get("disposition_id")), ("档案馆 Archive", cert.get("archive")),
             ("执行人 Executed by", cert.get("executed_by")), ("时间 Issued at", cert.get("issued_at"))]
    totals = cert.get("totals", {})
    facts.append(("合计 Totals", f"{totals.get('dossiers')} 卷 dossiers, {totals.get('items')} 件 items, "
                                 f"{totals.get('bytes')} bytes"))
    for key, value in sorted((cert.get("transfer") or {}).items()):
        facts.append((f"移交 {key}", value))
    for a in cert.get("approvals", []):
        facts.append((f"{'审核 Review' if a.get('step') == 'review' else '批准 Approval'}",
                      f"{a.get('actor')} ({a.get('role')}) {a.get('at')}"))
    flow.append(Table([[Paragraph(_esc(k), normal), Paragraph(_esc(v), normal)] for k, v in facts],
                      colWidths=[45 * mm, 125 * mm]))
    flow.append(Spacer(1, 6 * mm))
    for d in cert.get("dossiers", []):
        flow.append(Paragraph(_esc(
            f"卷 {d.get('archive_number')} — 规则 rule {d.get('rule')}; 收件 received {d.get('received_on')}, "
            f"结案 closed {d.get('closed_on')}, 归档 sealed {d.get('sealed_on')}, 处置 disposed {d.get('disposed_on')}"),
            normal))
        rows = [["件号 Item", "类别 Kind", "字节 Size", "SHA-256"]]
        rows += [[i.get("item_number"), i.get("kind"), str(i.get("size")), i.get("sha256")] for i in d.get("items", [])]
        table = Table([[Paragraph(_esc(c), small) for c in r] for r in rows],
                      colWidths=[30 * mm, 30 * mm, 18 * mm, 92 * mm], repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
        flow += [table, Spacer(1, 4 * mm)]
    sig = cert.get("signature", {})
    flow += [Spacer(1, 4 * mm),
             Paragraph(_esc(f"JSON SHA-256: {json_sha256}"), small),
             Paragraph(_esc(f"签名 Signature ({sig.get('algorithm')}, key {sig.get('key_id')}): {sig.get('value')}"), small),
             Paragraph("核验 Verify: dossier certificate verify &lt;this PDF or its JSON&gt;", small)]
    buffer = io.BytesIO()
    # The subject binds the PDF to its JSON: `certificate verify X.pdf` checks the JSON it names.
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=heading, author=str(cert.get("archive")),
                            subject=f"{_PDF_SUBJECT}{json_sha256}",
                            leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
                            invariant=1)
    doc.build(flow)
    return buffer.getvalue()


def _esc(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
