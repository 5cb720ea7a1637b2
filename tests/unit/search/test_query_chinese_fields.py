"""Chinese field names and values in the query language, and the filters a page shows as chips (#11 item 4)."""

from __future__ import annotations

from datetime import date

import pytest

from search.query import DateRange, FieldMatch, FilterField, Term, active_filters, parse
from search.service import document_heading


@pytest.mark.parametrize(("chinese", "english"), [
    ("被投诉人:某律所", "respondent:某律所"), ("投诉人:张三", "complainant:张三"), ("类别:收费", "category:收费"),
    ("渠道:email", "channel:email"), ("类型:decision", "kind:decision"), ("文件类型:fax", "kind:fax"),
    ("状态:closed", "state:closed"), ("卷号:2611-007", "number:2611-007"), ("收件日期:2026-03", "received:2026-03"),
    ("日期:2026-01-01..2026-03-31", "received:2026-01-01..2026-03-31"), ("办结日期>=2026-02", "closed>=2026-02"),
])
def test_a_chinese_field_name_means_the_english_one(chinese: str, english: str) -> None:
    """被投诉人:某律所 is the filter respondent:某律所, not the words 被投诉人:某律所."""
    assert parse(chinese) == parse(english)


def test_a_full_width_colon_and_chinese_values_are_understood() -> None:
    """Chinese input types ：; kind, channel and state accept their Chinese labels."""
    assert parse("被投诉人：某律所") == FieldMatch(FilterField.RESPONDENT, "某律所", 0)
    assert parse("类型:答复函") == FieldMatch(FilterField.KIND, "reply_letter", 0)
    assert parse("渠道:电话") == FieldMatch(FilterField.CHANNEL, "phone", 0)
    assert parse("状态:已办结") == FieldMatch(FilterField.STATE, "closed", 0)


def test_an_unknown_chinese_name_before_a_colon_stays_words() -> None:
    """Only the listed names are fields: other text with a colon is searched as before."""
    assert parse("投诉书:物业") == Term("投诉书:物业", 0)
    assert parse("备注：拖延") == Term("备注：拖延", 0)


def test_active_filters_are_the_top_level_clauses_and_can_be_removed() -> None:
    """Each filter on the whole query is a chip; removing it leaves the rest as typed."""
    q = "物业 kind:fax 被投诉人:某律所 received:2026-01-01..2026-03-31 (a OR channel:email) -state:closed"
    found = active_filters(q)
    assert [f.text for f in found] == ["kind:fax", "被投诉人:某律所", "received:2026-01-01..2026-03-31"]
    assert found[1].removed_from(q) == "物业 kind:fax received:2026-01-01..2026-03-31 (a OR channel:email) -state:closed"
    assert isinstance(parse(found[2].text), DateRange) and parse(found[2].text).start == date(2026, 1, 1)
    assert active_filters('"拖延 kind:fax') == []


def test_a_hit_is_titled_by_the_mail_subject_or_the_file_name() -> None:
    """The e-mail extractor's header block gives the subject; anything else is titled by its file name."""
    mail = "From: 张三\nSubject: 关于律师收费的补充材料\nDate: 2026-11-02\n\nSubject: not this\n正文"
    assert document_heading("补充.eml", mail, "message/rfc822") == "关于律师收费的补充材料"
    assert document_heading("投诉书.txt", "Subject: 信里写的一行字", "text/plain") == "投诉书.txt"
    assert document_heading("空白.txt", "") == "空白.txt"
