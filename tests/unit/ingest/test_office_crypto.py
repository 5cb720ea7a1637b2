"""Password-protected Office files (issue #13 (3)): OOXML in an OLE ``EncryptedPackage`` and legacy RC4.

The encrypted .docx and .xlsx are made in the test (python-docx / openpyxl, then msoffcrypto-tool's
ECMA-376 agile encryption); the corpus holds Tika's encrypted .docx (password "tika"). Decryption
is in memory only: the tests check the results, the module never writes a file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.detect import detect_media_type
from ingest.errors import EncryptedDocumentError, UnsupportedFormatError
from ingest.extractors import extractor_for
from ingest.extractors.office_crypto import ENCRYPTED_OFFICE, OfficeCryptoExtractor, decrypt_office
from ingest.model import ExtractContext
from ingest.workers import extract

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
PASSWORD = "投诉-2026"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _encrypt(plain: bytes, password: str = PASSWORD) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("信访人王五反映法律援助律师未出庭。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def locked_docx(docx_bytes: bytes) -> bytes:
    return _encrypt(docx_bytes)


@pytest.fixture(scope="module")
def locked_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "事项"])
    sheet.append(["赵六", "要求退还代理费"])
    out = io.BytesIO()
    book.save(out)
    return _encrypt(out.getvalue())


def test_decrypt_office_needs_the_right_password(docx_bytes: bytes, locked_docx: bytes) -> None:
    """GIVEN a .docx encrypted with a password
    WHEN it is decrypted with the password, with none, and with a wrong one
    THEN the right password gives back the very package; none and a wrong one are named apart."""
    assert decrypt_office(locked_docx, PASSWORD) == docx_bytes
    with pytest.raises(EncryptedDocumentError, match="encrypted: password required"):
        decrypt_office(locked_docx, None)
    with pytest.raises(EncryptedDocumentError, match="encrypted: wrong password"):
        decrypt_office(locked_docx, "guess")


def test_decrypt_office_passes_plain_files_and_refuses_non_office(docx_bytes: bytes) -> None:
    """GIVEN a file that is not encrypted, and one that is no Office file at all
    WHEN decrypt_office is asked
    THEN the plain file comes back as it is, and the other is named unsupported."""
    assert decrypt_office(docx_bytes, PASSWORD) == docx_bytes
    with pytest.raises(UnsupportedFormatError):
        decrypt_office(b"just some text, not an Office file", PASSWORD)


def test_an_encrypted_package_is_detected_as_such(locked_docx: bytes) -> None:
    """GIVEN an encrypted .docx (an OLE file with an EncryptedPackage stream)
    WHEN its type is detected by content
    THEN it is the encrypted-Office type, read by an extractor that takes a password."""
    assert detect_media_type(locked_docx) == ENCRYPTED_OFFICE
    assert isinstance(extractor_for(ENCRYPTED_OFFICE), OfficeCryptoExtractor)
    assert OfficeCryptoExtractor.takes_password is True


def test_encrypted_docx_and_xlsx_open_with_their_password(locked_docx: bytes, locked_xlsx: bytes) -> None:
    """GIVEN an encrypted Word document and an encrypted workbook
    WHEN they are extracted with the password
    THEN their text comes out, with metadata saying it was decrypted and what it was."""
    words = extract(locked_docx, ENCRYPTED_OFFICE, ExtractContext(password=PASSWORD, ocr_enabled=False))
    assert "法律援助律师未出庭" in words.text
    assert words.metadata["decrypted_from"] == "encrypted Office package"
    sheet = extract(locked_xlsx, ENCRYPTED_OFFICE, ExtractContext(password=PASSWORD, ocr_enabled=False))
    assert "要求退还代理费" in sheet.text and sheet.metadata["decrypted_media_type"] == XLSX


def test_encrypted_docx_without_or_with_a_wrong_password_is_encrypted(locked_docx: bytes) -> None:
    """GIVEN an encrypted .docx
    WHEN it is extracted without a password and with a wrong one
    THEN the outcome is 'encrypted' with a message saying which."""
    for password, reason in ((None, "password required"), ("wrong", "wrong password")):
        with pytest.raises(EncryptedDocumentError, match=reason):
            extract(locked_docx, ENCRYPTED_OFFICE, ExtractContext(password=password))


def test_the_corpus_encrypted_docx_opens_with_its_password() -> None:
    """GIVEN Tika's password-protected .docx from the corpus (password "tika")
    WHEN it is detected and extracted with that password
    THEN it is read as a Word document."""
    path = CORPUS / "docx" / "tika__testWORD_protected_passtika.docx"   # ../shared is beside the repo (README)
    media_type = detect_media_type(path)
    assert media_type == ENCRYPTED_OFFICE
    found = extract(path, media_type, ExtractContext(password="tika", ocr_enabled=False))
    assert found.text.strip() and found.metadata["decrypted_from"] == "encrypted Office package"


def test_a_legacy_rc4_word_document_opens_with_its_password() -> None:
    """GIVEN a Word 97-2003 document encrypted with RC4 CryptoAPI (antiword: "Encrypted documents are
    not supported"), from msoffcrypto-tool's test inputs
    WHEN the Word extractor reads it with its password, without one, and with a wrong one
    THEN the password opens its text; without it the outcome is 'encrypted', naming the reason."""
    from ingest.extractors.word import DocExtractor

    path = Path(__file__).parent / "data" / "rc4cryptoapi_password.doc"
    assert detect_media_type(path) == "application/msword"
    found = DocExtractor().extract(path, "application/msword", ExtractContext(password="Password1234_"))
    assert "lorem ipsum" in found.text
    assert found.metadata["decrypted_from"] == "encrypted Word 97-2003 document"
    for password, reason in ((None, "password required"), ("wrong", "wrong password")):
        with pytest.raises(EncryptedDocumentError, match=reason):
            DocExtractor().extract(path, "application/msword", ExtractContext(password=password))
