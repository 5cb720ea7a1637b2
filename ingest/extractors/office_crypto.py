"""Password-protected Microsoft Office files, decrypted in memory with msoffcrypto-tool.

Two families are encrypted differently:

* Office 2007+ (.docx/.xlsx/.pptx) with a password is no longer a zip: it is an OLE compound file
  holding an ``EncryptionInfo`` stream and the ciphertext of the whole package in
  ``EncryptedPackage`` (ECMA-376 agile or standard encryption). ``ingest.detect`` names it
  ``application/x-ms-office-encrypted``; :class:`OfficeCryptoExtractor` decrypts it, detects what
  the package is by content and hands it to that format's extractor.
* Office 97-2003 (.doc/.xls/.ppt) keeps its OLE layout and encrypts its streams with RC4 or RC4
  CryptoAPI; the format's own extractor calls :func:`decrypt_office` when it meets an encrypted
  file and reads the plaintext it returns.

Plaintext exists only in memory (``BytesIO``): NOTHING READABLE ON DISK (see ``ingest.workers``,
which passes in-memory parts to readers as memfd paths). The filed original stays the encrypted
file; the password is never logged, stored or echoed (ACC-04 forbids secrets in the log).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import ClassVar

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError, UnsupportedFormatError
from ingest.model import ExtractContext, Extraction

__all__ = ["ENCRYPTED_OFFICE", "OfficeCryptoExtractor", "decrypt_office", "is_encrypted_office", "word_fib_encrypted"]

ENCRYPTED_OFFICE = "application/x-ms-office-encrypted"
DECRYPTED_FROM = "encrypted Office package"

# Excel encrypts workbooks that are only write-protected with this built-in password, so a file
# that opens in Excel without a prompt still arrives encrypted (MS-OFFCRYPTO 2.4.2.4 / MS-XLS).
_EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"


def decrypt_office(source: Path | bytes, password: str | None) -> bytes:
    """The plaintext of an encrypted Office file (OOXML package or legacy .doc/.xls/.ppt).

    A file that is not encrypted is returned as it is. Without a password only Excel's built-in
    default ("VelvetSweatshop", used for workbooks that open without a prompt) is tried.

    Raises:
        EncryptedDocumentError: "encrypted: password required" (none given, and the default did
            not open it), "encrypted: wrong password", or an encryption method msoffcrypto-tool
            does not implement.
        UnsupportedFormatError: not an Office file msoffcrypto-tool knows.
        CorruptDocumentError: the encryption headers or streams cannot be parsed.
    """
    import msoffcrypto
    from msoffcrypto import exceptions as mso

    data = source if isinstance(source, bytes) else source.read_bytes()
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        if not office.is_encrypted():
            return data
        candidates = [password] if password else []
        if not password and _is_xls(office):
            candidates.append(_EXCEL_DEFAULT_PASSWORD)
        if not candidates:
            raise EncryptedDocumentError("encrypted: password required")
        for candidate in candidates:
            try:
                return _decrypt_with(data, candidate)
            except mso.InvalidKeyError:
                continue
        if password:
            raise EncryptedDocumentError("encrypted: wrong password")
        raise EncryptedDocumentError("encrypted: password required")
    except (mso.FileFormatError, mso.ParseError) as exc:
        raise (UnsupportedFormatError if isinstance(exc, mso.FileFormatError) else CorruptDocumentError)(
            f"not a readable Office file ({str(exc)[:200]})") from None
    except mso.DecryptionError as exc:
        # Key verification is InvalidKeyError (handled above); anything left is a method or a
        # structure msoffcrypto-tool cannot handle: the file stays encrypted, and says why.
        raise EncryptedDocumentError(f"encrypted: cannot decrypt ({str(exc)[:200]})") from None
    except (EncryptedDocumentError, UnsupportedFormatError, CorruptDocumentError):
        raise
    except (OSError, ValueError, KeyError, IndexError, EOFError) as exc:  # olefile/struct on damaged input
        raise CorruptDocumentError(f"corrupt: encrypted Office file cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None


def is_encrypted_office(source: Path | bytes) -> bool:
    """Whether msoffcrypto-tool sees an encrypted Office file here (False for anything unreadable)."""
    import msoffcrypto

    data = source if isinstance(source, bytes) else source.read_bytes()
    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # noqa: BLE001 - not an Office file, or damaged: not "encrypted" either
        return False


def word_fib_encrypted(source: Path | bytes) -> bool:
    """Whether a Word 97-2003 file says it is encrypted (FIB ``fEncrypted``, MS-DOC 2.5.2).

    Reads 12 bytes of the ``WordDocument`` stream, so every .doc can be asked cheaply.
    """
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as ole:
            if not ole.exists("WordDocument"):
                return False
            with ole.openstream("WordDocument") as stream:
                fib = stream.read(12)
    except (OSError, ValueError, NotImplementedError):
        return False
    return len(fib) == 12 and bool(int.from_bytes(fib[10:12], "little") & 0x0100)


def _is_xls(office: object) -> bool:
    return type(office).__name__ == "Xls97File"


def _decrypt_with(data: bytes, password: str) -> bytes:
    """Decrypt with one password (a fresh reader each time: msoffcrypto objects keep state)."""
    import msoffcrypto

    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    try:
        office.load_key(password=password, verify_password=True)
    except TypeError:  # legacy formats' load_key has no verify flag: they always verify
        office.load_key(password=password)
    out = io.BytesIO()
    office.decrypt(out)
    return out.getvalue()


class OfficeCryptoExtractor:
    """Opens password-protected Office 2007+ files (an OLE ``EncryptedPackage``) with a password.

    The decrypted package is detected again by content and read by the extractor of its format
    (Word, Excel, PowerPoint), so an encrypted file yields exactly what its plain twin would, plus
    the metadata ``decrypted_from``. ING-06: an encrypted file without its password is filed with
    outcome ``encrypted``; it can be opened later with ``dossier unlock``.
    """

    name: ClassVar[str] = "office-crypto"
    media_types: ClassVar[frozenset[str]] = frozenset({ENCRYPTED_OFFICE})
    takes_password: ClassVar[bool] = True

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Decrypt, then extract with the decrypted format's extractor.

        Raises:
            EncryptedDocumentError: no password, or the wrong one.
            TooLargeError: the file exceeds ``max_file_bytes``.
            UnsupportedFormatError: the decrypted package is of a format nothing reads.
            CorruptDocumentError: the encryption or the decrypted package is damaged.
        """
        from ingest.detect import detect_media_type
        from ingest.workers import extract

        if source.stat().st_size > context.limits.max_file_bytes:
            raise TooLargeError(f"too large: file exceeds {context.limits.max_file_bytes} bytes")
        plain = decrypt_office(source, context.password)
        if len(plain) > context.limits.max_expanded_bytes:
            raise TooLargeError(f"too large: decrypted package exceeds {context.limits.max_expanded_bytes} bytes")
        inner_type = detect_media_type(plain)
        if inner_type == ENCRYPTED_OFFICE:   # an encrypted package inside another: not a real file
            raise CorruptDocumentError("corrupt: encrypted package decrypts to another encrypted package")
        inner = extract(plain, inner_type, context)
        return dataclasses.replace(inner, metadata={**inner.metadata, "decrypted_from": DECRYPTED_FROM,
                                                    "decrypted_media_type": inner_type})
