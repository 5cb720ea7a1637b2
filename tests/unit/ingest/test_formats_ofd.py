"""OFD (GB/T 33190) extraction: e-invoices with template pages, multi-page documents, namespace
variants, attachments, signatures kept out of the text, and the zip-bomb guard (issue #13, item 4)."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.detect import OFD, detect_media_type
from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError
from ingest.extractors import extractor_for
from ingest.extractors.ofd import _deltas
from ingest.model import ExtractContext, Extraction, Limits

NS = "http://www.ofdspec.org/2016"


def _xml(root: str, body: str, *, ns: str | None = NS, prefix: str = "ofd") -> str:
    """An OFD XML part; ``prefix=""`` writes a default namespace, ``ns=None`` none at all."""
    if ns is None:
        return f'<?xml version="1.0" encoding="UTF-8"?><{root}>{body.replace("ofd:", "")}</{root}>'
    if not prefix:
        return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{ns}">{body.replace("ofd:", "")}</{root}>'
    return f'<?xml version="1.0" encoding="UTF-8"?><ofd:{root} xmlns:ofd="{ns}">{body}</ofd:{root}>'


def _text_object(oid: int, x: float, y: float, text: str, *, size: float = 3.175, ctm: str | None = None,
                 delta: str | None = None) -> str:
    ctm_attr = f' CTM="{ctm}"' if ctm else ""
    delta_attr = f' DeltaX="{delta}"' if delta else ""
    return (f'<ofd:TextObject ID="{oid}" Boundary="{x} {y} 80 6" Font="3" Size="{size}"{ctm_attr}>'
            f'<ofd:FillColor Value="0 0 0"/>'
            f'<ofd:TextCode X="0" Y="{size}"{delta_attr}>{text}</ofd:TextCode></ofd:TextObject>')


def _page(objects: str, *, template: str | None = None) -> str:
    tpl = f'<ofd:Template TemplateID="{template}" ZOrder="Background"/>' if template else ""
    return (f"{tpl}<ofd:Area><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:Area>"
            f'<ofd:Content><ofd:Layer ID="9" Type="Body">{objects}</ofd:Layer></ofd:Content>')


def _package(parts: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _ofd_xml(title: str = "电子发票（普通发票）", **xml: object) -> str:
    info = (f"<ofd:DocInfo><ofd:DocID>4e7f6a</ofd:DocID><ofd:Title>{title}</ofd:Title>"
            "<ofd:Author>国家税务总局某市税务局</ofd:Author><ofd:Subject>物业服务费</ofd:Subject>"
            "<ofd:CreationDate>2024-03-05</ofd:CreationDate>"
            "<ofd:Keywords><ofd:Keyword>发票</ofd:Keyword><ofd:Keyword>物业</ofd:Keyword></ofd:Keywords>"
            "</ofd:DocInfo>")
    body = (f"<ofd:DocBody>{info}<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
            "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>")
    return _xml("OFD", body, **xml).replace("<ofd:OFD ", '<ofd:OFD DocType="OFD" Version="1.0" ', 1)  # type: ignore[arg-type]


def _invoice() -> bytes:
    """An e-invoice as tax-bureau software writes it: labels in a template page, values on the
    page in no particular order, several TextObjects per line, a CTM-scaled amount, a ``g``
    DeltaX run, an attachment (the invoice XML), a seal annotation and a signature."""
    template = _page("".join([
        _text_object(101, 80, 8, "电子发票（普通发票）", size=5.5),
        _text_object(102, 10, 30, "购买方"),
        _text_object(103, 26, 30, "名称："),
        _text_object(104, 10, 38, "统一社会信用代码/纳税人识别号："),
        _text_object(105, 10, 60, "价税合计（大写）"),
    ]))
    page = _page("".join([
        # Written out of reading order, as generators do: values first, the amount last.
        _text_object(201, 62, 38.3, "91440300MA5EXAMPLE"),
        _text_object(202, 36, 29.8, "深圳市某某物业管理有限公司", delta="g 12 3.175"),
        _text_object(203, 60, 60, "壹仟贰佰元整", ctm="0.5 0 0 0.5 0 0", size=6.35),
        _text_object(204, 150, 60, "¥1200.00"),
    ]), template="2")
    document = (
        '<ofd:CommonData><ofd:MaxUnitID>300</ofd:MaxUnitID>'
        '<ofd:PageArea><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea>'
        '<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>'
        '<ofd:TemplatePage ID="2" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>'
        '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
        '<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>'
        '<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>'
        '<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags>')
    annotations = _xml("Annotations", '<ofd:Page PageID="1"><ofd:FileLoc>Page_0/Annotation.xml</ofd:FileLoc></ofd:Page>')
    annotation = _xml("PageAnnot", (
        '<ofd:Annot ID="250" Type="Stamp" Creator="税务局"><ofd:Remark>发票专用章</ofd:Remark>'
        '<ofd:Appearance Boundary="150 90 40 30"></ofd:Appearance></ofd:Annot>'))
    attachments = _xml("Attachments", (
        '<ofd:Attachment ID="1" Name="original_invoice" Format="xml" CreationDate="2024-03-05" Size="0.1">'
        '<ofd:FileLoc>original_invoice.xml</ofd:FileLoc></ofd:Attachment>'))
    return _package({
        "OFD.xml": _ofd_xml(),
        "Doc_0/Document.xml": _xml("Document", document),
        "Doc_0/PublicRes.xml": _xml("Res", '<ofd:Fonts><ofd:Font ID="3" FontName="宋体"/></ofd:Fonts>'),
        "Doc_0/Tpls/Tpl_0/Content.xml": _xml("Page", template),
        "Doc_0/Pages/Page_0/Content.xml": _xml("Page", page),
        "Doc_0/Annots/Annotations.xml": annotations,
        "Doc_0/Annots/Page_0/Annotation.xml": annotation,
        "Doc_0/Attachs/Attachments.xml": attachments,
        "Doc_0/Attachs/original_invoice.xml": "<Invoice><No>24440000000012345678</No></Invoice>",
        "Doc_0/Tags/CustomTags.xml": _xml("CustomTags", (
            '<ofd:CustomTag NameSpace="http://www.edrm.com/ofd/eInvoice" TypeID="eInvoice">'
            '<ofd:FileLoc>CustomTag.xml</ofd:FileLoc></ofd:CustomTag>')),
        "Doc_0/Tags/CustomTag.xml": (
            f'<fp:eInvoice xmlns:fp="http://www.edrm.com/ofd/eInvoice" xmlns:ofd="{NS}">'
            '<fp:InvoiceNo>24440000000012345678</fp:InvoiceNo>'
            '<fp:Buyer><fp:BuyerName><ofd:ObjectRef PageRef="1">202</ofd:ObjectRef></fp:BuyerName></fp:Buyer>'
            '<fp:TaxInclusiveTotalAmount><ofd:ObjectRef PageRef="1">204</ofd:ObjectRef></fp:TaxInclusiveTotalAmount>'
            '</fp:eInvoice>'),
        "Doc_0/Signs/Signatures.xml": _xml("Signatures", '<ofd:Signature ID="1" BaseLoc="Sign_0/Signature.xml"/>'),
        "Doc_0/Signs/Sign_0/Signature.xml": _xml("Signature", "<ofd:SignedInfo><ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal></ofd:SignedInfo>"),
        "Doc_0/Signs/Sign_0/SignedValue.dat": b"0\x82\x05SIGNEDVALUE\x00\xff" * 50,
    })


def _two_pages(**xml: object) -> bytes:
    pages = [
        _page(_text_object(11, 30, 40, "关于小区物业问题的投诉") + _text_object(12, 20, 20, "信访事项受理告知书", size=5)),
        _page(_text_object(21, 20, 20, "第二页：处理意见") + _text_object(22, 20, 30, "请于十五日内答复")),
    ]
    document = ('<ofd:CommonData><ofd:MaxUnitID>30</ofd:MaxUnitID></ofd:CommonData><ofd:Pages>'
                '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                '<ofd:Page ID="2" BaseLoc="/Doc_0/Pages/Page_1/Content.xml"/></ofd:Pages>')
    return _package({
        "OFD.xml": _ofd_xml("受理告知书", **xml),
        "Doc_0/Document.xml": _xml("Document", document, **xml),  # type: ignore[arg-type]
        "Doc_0/Pages/Page_0/Content.xml": _xml("Page", pages[0], **xml),  # type: ignore[arg-type]
        "Doc_0/Pages/Page_1/Content.xml": _xml("Page", pages[1], **xml),  # type: ignore[arg-type]
    })


def _extract(tmp_path: Path, data: bytes, context: ExtractContext | None = None) -> Extraction:
    path = tmp_path / "doc.ofd"
    path.write_bytes(data)
    media_type = detect_media_type(path)
    assert media_type == OFD
    return extractor_for(media_type).extract(path, media_type, context or ExtractContext())


def test_e_invoice_reads_labels_and_values_line_by_line(tmp_path: Path) -> None:
    """GIVEN an e-invoice OFD whose labels sit in a template page and whose values are written
    out of order, several text objects per line, one scaled by a CTM
    WHEN extracted
    THEN each printed line comes out whole and in reading order (label then value; a visible gap
    is one space, adjoining pieces are joined so phrases stay searchable), the DocInfo
    and the invoice's custom tags become metadata, and the seal's remark is kept, while the
    signature's bytes are not text."""
    result = _extract(tmp_path, _invoice())
    lines = result.text.splitlines()
    assert lines[0] == "电子发票（普通发票）"
    assert "购买方 名称：深圳市某某物业管理有限公司" in lines
    assert "统一社会信用代码/纳税人识别号：91440300MA5EXAMPLE" in lines
    assert any(line.startswith("价税合计（大写）") and "壹仟贰佰元整" in line and line.endswith("¥1200.00")
               for line in lines)
    assert "发票专用章" in result.text
    assert "SIGNEDVALUE" not in result.text
    assert result.pages == 1
    assert result.metadata["title"] == "电子发票（普通发票）"
    assert result.metadata["author"] == "国家税务总局某市税务局"
    assert result.metadata["created"] == "2024-03-05"
    assert result.metadata["keywords"] == "发票; 物业"
    assert result.metadata["tag_InvoiceNo"] == "24440000000012345678"
    assert result.metadata["tag_BuyerName"] == "深圳市某某物业管理有限公司"
    assert result.metadata["tag_TaxInclusiveTotalAmount"] == "¥1200.00"
    assert result.languages == ("zh-Hans",)


def test_embedded_files_become_attachments(tmp_path: Path) -> None:
    """GIVEN an OFD with an attachment listed in Attachments.xml
    WHEN extracted
    THEN the file comes back as an attachment under its declared name and format, to be filed as
    a child document; at the depth limit it is left inside, with a warning."""
    result = _extract(tmp_path, _invoice())
    assert [(a.filename, a.data) for a in result.attachments] == [
        ("original_invoice.xml", b"<Invoice><No>24440000000012345678</No></Invoice>")]
    deep = _extract(tmp_path, _invoice(), ExtractContext(depth=5))
    assert deep.attachments == ()
    assert any("max_depth" in w for w in deep.warnings)


@pytest.mark.parametrize("variant", [
    {"ns": NS}, {"ns": "http://www.ofdspec.org"}, {"ns": NS, "prefix": ""}, {"ns": None},
], ids=["ofd-2016", "ofd-old-namespace", "default-namespace", "no-namespace"])
def test_two_page_document_in_every_namespace_variant(tmp_path: Path, variant: dict[str, object]) -> None:
    """GIVEN a two-page OFD (one page referenced by an absolute BaseLoc) written with the 2016
    namespace, the older one, a default namespace or none
    WHEN extracted
    THEN both pages come out in order, top line first, separated by a form feed as PDF pages are,
    with per-page character counts."""
    result = _extract(tmp_path, _two_pages(**variant))
    assert result.pages == 2
    first, second = result.text.split("\f")
    assert first.splitlines() == ["信访事项受理告知书", "关于小区物业问题的投诉"]
    assert second.splitlines() == ["第二页：处理意见", "请于十五日内答复"]
    assert [p.chars for p in result.page_info] == [len(first), len(second)]
    assert result.metadata["title"] == "受理告知书"


def test_damaged_and_hostile_packages_are_named(tmp_path: Path) -> None:
    """GIVEN an OFD whose OFD.xml is not XML, and one holding a decompression bomb
    WHEN extracted
    THEN the first is corrupt with a reason, the second too large before anything is inflated."""
    broken = _package({"OFD.xml": "<ofd:OFD", "Doc_0/Document.xml": "<x/>"})
    with pytest.raises(CorruptDocumentError):
        _extract(tmp_path, broken)
    bomb = _package({"OFD.xml": _ofd_xml(), "Doc_0/Res/blob.bin": b"\0" * (8 * 1024 * 1024)})
    with pytest.raises(TooLargeError):
        _extract(tmp_path, bomb)
    with pytest.raises(TooLargeError):
        _extract(tmp_path, _invoice(), ExtractContext(limits=Limits(max_expanded_bytes=1000)))


def test_text_in_composite_graphic_units_is_placed_on_the_page(tmp_path: Path) -> None:
    """GIVEN an OFD converted from PDF (as ofdrw writes it): the page only places composite objects
    whose text objects live in DocumentRes.xml
    WHEN extracted
    THEN their text comes out in the page's reading order."""
    unit = ('<ofd:CompositeGraphicUnits>'
            '<ofd:CompositeGraphicUnit ID="50" Width="100" Height="10"><ofd:Content>'
            + _text_object(51, 0, 0, "海关总署") + '</ofd:Content></ofd:CompositeGraphicUnit>'
            '<ofd:CompositeGraphicUnit ID="60" Width="100" Height="10"><ofd:Content>'
            + _text_object(61, 0, 0, "建设新时代数字档案室") + '</ofd:Content></ofd:CompositeGraphicUnit>'
            '</ofd:CompositeGraphicUnits>')
    page = _page('<ofd:CompositeObject ID="70" ResourceID="60" Boundary="20 50 100 10"/>'
                 '<ofd:CompositeObject ID="71" ResourceID="50" Boundary="20 30 100 10"/>')
    document = ('<ofd:CommonData><ofd:MaxUnitID>80</ofd:MaxUnitID><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>'
                '</ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>')
    data = _package({"OFD.xml": _ofd_xml(), "Doc_0/Document.xml": _xml("Document", document),
                     "Doc_0/DocumentRes.xml": _xml("Res", unit), "Doc_0/Pages/Page_0/Content.xml": _xml("Page", page)})
    assert _extract(tmp_path, data).text == "海关总署\n建设新时代数字档案室"


def test_scanned_page_is_read_by_ocr(tmp_path: Path, noto: Callable[[str], tuple[str, int]]) -> None:
    """GIVEN an OFD of a scanned letter: the page holds only a picture (a MultiMedia resource under
    the resource file's BaseLoc folder), no text objects
    WHEN extracted
    THEN the picture is OCR'd like a scanned PDF page, and the page is marked as OCR'd."""
    from PIL import Image, ImageDraw, ImageFont

    path, index = noto("SC")
    scan = Image.new("L", (1400, 300), 255)
    pen, font = ImageDraw.Draw(scan), ImageFont.truetype(path, 56, index=index)
    pen.text((60, 60), "投诉人反映：这个小区的物业长期不处理", font=font, fill=0)
    pen.text((60, 160), "楼顶漏水问题，请有关部门尽快答复。", font=font, fill=0)
    png = io.BytesIO()
    scan.save(png, format="PNG")
    res = ('<ofd:MultiMedias><ofd:MultiMedia ID="5" Type="Image" Format="PNG">'
           '<ofd:MediaFile>scan_0.png</ofd:MediaFile></ofd:MultiMedia></ofd:MultiMedias>')
    page = _page('<ofd:ImageObject ID="9" CTM="180 0 0 38.6 0 0" Boundary="15 20 180 38.6" ResourceID="5"/>')
    document = ('<ofd:CommonData><ofd:MaxUnitID>10</ofd:MaxUnitID><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>'
                '</ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>')
    data = _package({"OFD.xml": _ofd_xml(), "Doc_0/Document.xml": _xml("Document", document),
                     "Doc_0/PublicRes.xml": _xml("Res", res).replace("<ofd:Res ", '<ofd:Res BaseLoc="Res" ', 1),
                     "Doc_0/Res/scan_0.png": png.getvalue(),
                     "Doc_0/Pages/Page_0/Content.xml": _xml("Page", page)})
    result = _extract(tmp_path, data)
    assert "这个小区的物业长期不处理" in result.text and "楼顶漏水问题" in result.text
    assert result.page_info[0].ocr


def _one_page(objects: str, resources: str = "") -> bytes:
    """A one-page OFD whose DocumentRes.xml holds ``resources`` (composite units)."""
    document = ('<ofd:CommonData><ofd:MaxUnitID>80</ofd:MaxUnitID><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>'
                '</ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>')
    return _package({"OFD.xml": _ofd_xml(), "Doc_0/Document.xml": _xml("Document", document),
                     "Doc_0/DocumentRes.xml": _xml("Res", resources),
                     "Doc_0/Pages/Page_0/Content.xml": _xml("Page", _page(objects))})


def test_composite_units_placing_each_other_over_and_over_stay_within_the_text_budget(tmp_path: Path) -> None:
    """GIVEN a 1.6 KB OFD whose page places a composite unit 30 times, which places the next 30
    times, four levels deep (810,000 runs of text asked for)
    WHEN extracted with 1,000 characters of text kept per file
    THEN reading stops at the budget, quickly, with a warning saying the text was cut."""
    def placed(unit: int) -> str:
        return f'<ofd:CompositeObject ID="9" ResourceID="{unit}" Boundary="0 0 10 10"/>' * 30
    units = "".join(
        f'<ofd:CompositeGraphicUnit ID="{level}" Width="1" Height="1"><ofd:Content>'
        + (placed(level + 1) if level < 4 else _text_object(5, 1, 1, "字")) + "</ofd:Content></ofd:CompositeGraphicUnit>"
        for level in range(1, 5))
    data = _one_page(placed(1), f"<ofd:CompositeGraphicUnits>{units}</ofd:CompositeGraphicUnits>")
    assert len(data) < 2000
    result = _extract(tmp_path, data, ExtractContext(limits=Limits(max_text_chars=1000)))
    assert 0 < len(result.text) <= 1000 and set(result.text) == {"字"}
    assert any(w.startswith("text cut") for w in result.warnings)


def test_deltax_shorthand_expands_only_as_far_as_the_run_has_characters(tmp_path: Path) -> None:
    """GIVEN DeltaX values using the ``g N d`` shorthand with huge or absurd repeat counts
    WHEN expanded for a run of two characters, and extracted from a page
    THEN only the one advance the run needs is produced, and "g 1e999 1" is ignored, not a crash."""
    assert _deltas("g 100000 1 " * 2000, limit=1) == [1.0]
    assert _deltas("g 3 2.5 4", limit=10) == [2.5, 2.5, 2.5, 4.0]
    result = _extract(tmp_path, _one_page(_text_object(5, 10, 10, "投诉", delta="g 1e999 1 g 2 3.175")))
    assert result.text == "投诉"


def _flagged(data: bytes, member: str, *, flags: int = 0, method: int | None = None) -> bytes:
    """The package with one member's central-directory entry given general-purpose flags and/or
    a compression method (what an encrypted or deflate64 member declares)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46:at + 46 + name_len] == member.encode():
            struct.pack_into("<H", out, at + 8, struct.unpack_from("<H", out, at + 8)[0] | flags)
            if method is not None:
                struct.pack_into("<H", out, at + 10, method)
        at = out.find(b"PK\x01\x02", at + 46)
    return bytes(out)


def test_encrypted_or_deflate64_parts_are_named_not_a_generic_crash(tmp_path: Path) -> None:
    """GIVEN an OFD whose page part is zip-encrypted, and one whose page part uses deflate64
    WHEN extracted (the first without a password)
    THEN the first is encrypted, the second corrupt because of its compression method, each saying
    which part; and OFD takes a password (handed on to its attachments)."""
    page = "Doc_0/Pages/Page_0/Content.xml"
    with pytest.raises(EncryptedDocumentError, match="Page_0.*no password"):
        _extract(tmp_path, _flagged(_two_pages(), page, flags=0x1))
    with pytest.raises(CorruptDocumentError, match="Page_0.*compression method not supported"):
        _extract(tmp_path, _flagged(_two_pages(), page, method=9))
    assert extractor_for(OFD).takes_password is True  # type: ignore[attr-defined]
