"""Document kinds recognised from format and content, with the rule that fired."""

from __future__ import annotations

import pytest

from ingest.classify import classify, filing_hints
from records.model import DocumentKind


@pytest.mark.parametrize("text, kind", [
    ("法律援助投诉\n询问笔录\n时间：2026年11月3日", DocumentKind.INVESTIGATION_MINUTES),
    ("調查筆錄\n被詢問人：王五", DocumentKind.INVESTIGATION_MINUTES),
    ("不予受理通知书\n张三：你反映的……", DocumentKind.NON_ACCEPTANCE_NOTICE),
    ("受 理 通 知 书\n张三：你于2026年11月2日提出的投诉……", DocumentKind.ACCEPTANCE_NOTICE),
    ("授权委托书\n委托人：张三", DocumentKind.POWER_OF_ATTORNEY),
    ("投诉处理答复书\n张三：", DocumentKind.REPLY_LETTER),
    ("关于延长办理期限的通知", DocumentKind.EXTENSION_NOTICE),
    ("处理决定书\n经调查……", DocumentKind.DECISION),
    ("回访记录\n回访时间：", DocumentKind.FOLLOW_UP_RECORD),
    ("传真号码：010-12345678\n致：法律援助中心", DocumentKind.FAX),
    ("投诉书\n投诉人：张三\n被投诉人：某律师事务所", DocumentKind.COMPLAINT_LETTER),
    ("Complaint about my legal aid lawyer", DocumentKind.COMPLAINT_LETTER),
    ("一些无关的文字", DocumentKind.OTHER),
])
def test_headings_decide_the_kind(text: str, kind: DocumentKind) -> None:
    """Titles of notices, minutes and letters (Simplified or Traditional, letter-spaced) give the kind."""
    assert classify("application/pdf", text).kind is kind


def test_rule_that_fired_is_named() -> None:
    """The stored rule lets a person see why a kind was chosen."""
    assert classify("application/pdf", "不予受理通知书").rule == "title:不予受理通知书"
    # Without a known title, the ordered rules over the head keep their stored names.
    assert classify("application/pdf", "张三：\n现将不予受理通知书送达给你。").rule == "heading:不予受理通知书"
    assert classify("text/plain", "nothing").rule == "default:other"


def test_email_formats_are_emails_whatever_they_say() -> None:
    assert classify("message/rfc822", "询问笔录").kind is DocumentKind.EMAIL
    assert classify("application/vnd.ms-outlook", "").kind is DocumentKind.EMAIL


def test_g4_tiff_is_a_fax_and_a_photo_is_evidence() -> None:
    assert classify("image/tiff", "", {"compression": "group4"}).kind is DocumentKind.FAX
    assert classify("image/jpeg", "").kind is DocumentKind.EVIDENCE


def test_filing_hints_find_date_and_complainant() -> None:
    """Dates, senders and the complainant's name help filing."""
    hints = filing_hints("投诉书\n投诉人：张三\n日期：2026年11月2日", {"from": "a@b.cn", "subject": "投诉"})
    assert hints == {"date": "2026-11-02", "from": "a@b.cn", "subject": "投诉", "complainant": "张三"}
