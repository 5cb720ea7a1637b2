"""The document's title decides its kind before any word of its body (issue #10, ARC-2-05).

A statutory reply letter 「法律援助投诉处理答复书」 says 「作出处理决定」 in its body; the body rule for
decisions used to win and every reply letter was filed as a decision, so the dossier looked as if
its reply (ACC-DOC-05) were missing.
"""

from __future__ import annotations

import pytest

from ingest.classify import classify
from records.model import DocumentKind

REPLY_LETTER = """法律援助投诉处理答复书

法援投复〔2027〕3号

张三：
你于2027年1月4日提出的投诉，本中心已依法受理并进行了调查。经调查，本中心作出处理决定如下：
对被投诉人予以批评教育。如对本答复不服，可依法申请行政复议。
"""


def test_reply_letter_whose_body_says_decision_is_a_reply_letter() -> None:
    """GIVEN the statutory reply letter, whose body says 「作出处理决定」
    WHEN it is classified
    THEN it is a reply letter, decided by its title."""
    found = classify("application/pdf", REPLY_LETTER)
    assert found.kind is DocumentKind.REPLY_LETTER
    assert found.rule == "title:答复书"


def test_reply_opinion_letter_is_a_reply_letter() -> None:
    """GIVEN a letter titled 「答复意见书」 (which used to be filed as 'other')
    WHEN it is classified THEN it is a reply letter."""
    text = "投诉答复意见书\n李四：\n关于你反映的问题，现答复如下……"
    assert classify("application/vnd.openxmlformats-officedocument.wordprocessingml.document", text).kind \
        is DocumentKind.REPLY_LETTER


def test_decision_whose_body_mentions_a_reply_is_a_decision() -> None:
    """GIVEN a 处理决定书 whose body says it will be answered (答复) in writing
    WHEN it is classified THEN it stays a decision."""
    text = "投诉处理决定书\n\n被投诉人：某律师事务所\n经调查，现决定如下。本决定将以书面形式答复投诉人，并附答复书。"
    found = classify("application/pdf", text)
    assert found.kind is DocumentKind.DECISION
    assert found.rule == "title:处理决定书"


@pytest.mark.parametrize(("title", "kind"), [
    # reply letters (ACC-DOC-05)
    ("答复书", DocumentKind.REPLY_LETTER),
    ("答复意见书", DocumentKind.REPLY_LETTER),
    ("答复函", DocumentKind.REPLY_LETTER),
    ("投诉处理答复书", DocumentKind.REPLY_LETTER),
    ("法律援助投诉处理答复书", DocumentKind.REPLY_LETTER),
    ("法律援助投訴處理答覆書", DocumentKind.REPLY_LETTER),
    ("答復意見書", DocumentKind.REPLY_LETTER),
    ("答 复 书", DocumentKind.REPLY_LETTER),
    ("关于张三投诉事项的答复", DocumentKind.REPLY_LETTER),
    # decisions
    ("处理决定书", DocumentKind.DECISION),
    ("处理意见书", DocumentKind.DECISION),
    ("投訴處理決定書", DocumentKind.DECISION),
    ("關於張三投訴的處理意見", DocumentKind.DECISION),
    # acceptance and non-acceptance (ACC-NO)
    ("受理通知书", DocumentKind.ACCEPTANCE_NOTICE),
    ("法律援助投诉受理通知书", DocumentKind.ACCEPTANCE_NOTICE),
    ("受理通知書", DocumentKind.ACCEPTANCE_NOTICE),
    ("不予受理通知书", DocumentKind.NON_ACCEPTANCE_NOTICE),
    ("法律援助投诉不予受理通知书", DocumentKind.NON_ACCEPTANCE_NOTICE),
    ("不 予 受 理 通 知 書", DocumentKind.NON_ACCEPTANCE_NOTICE),
    # extension notices (TL-03)
    ("延期通知书", DocumentKind.EXTENSION_NOTICE),
    ("延长办理期限通知书", DocumentKind.EXTENSION_NOTICE),
    ("延長辦理期限通知書", DocumentKind.EXTENSION_NOTICE),
    ("关于延长投诉办理期限的通知", DocumentKind.EXTENSION_NOTICE),
    # minutes
    ("调查笔录", DocumentKind.INVESTIGATION_MINUTES),
    ("询问笔录", DocumentKind.INVESTIGATION_MINUTES),
    ("谈话笔录", DocumentKind.INVESTIGATION_MINUTES),
    ("談話筆錄", DocumentKind.INVESTIGATION_MINUTES),
    # power of attorney, follow-up, oral complaint record
    ("授权委托书", DocumentKind.POWER_OF_ATTORNEY),
    ("授權委託書", DocumentKind.POWER_OF_ATTORNEY),
    ("回访记录", DocumentKind.FOLLOW_UP_RECORD),
    ("回訪記錄", DocumentKind.FOLLOW_UP_RECORD),
    ("口头投诉记录", DocumentKind.ORAL_COMPLAINT_RECORD),
])
def test_common_titles_of_each_kind(title: str, kind: DocumentKind) -> None:
    """GIVEN a document whose title is one of the common titles of its kind (Simplified or
    Traditional, letter-spaced too), above an organisation line and a body that mentions
    other kinds' words (处理决定, 答复, 投诉, 受理)
    WHEN it is classified THEN the title decides the kind."""
    text = f"某市法律援助中心\n{title}\n张三：\n你的投诉已受理，经调查作出处理决定，现答复如下。"
    found = classify("application/pdf", text)
    assert found.kind is kind, found
    assert found.rule.startswith("title:")


def test_chaser_notice_is_not_a_complaint_letter() -> None:
    """GIVEN a chaser 催办单 (TL-36), whose body is about a complaint
    WHEN it is classified THEN its title is recognised and it is not filed as a complaint letter."""
    found = classify("application/pdf", "催办单\n承办部门：投诉科\n投诉人张三的投诉已逾期，请于三日内办结。")
    assert found.rule == "title:催办单"
    assert found.kind is not DocumentKind.COMPLAINT_LETTER


def test_title_on_one_line_with_the_body_still_counts() -> None:
    """GIVEN extracted text without line breaks after the title (the salutation follows on the same line)
    WHEN it is classified THEN the words before the salutation are the title."""
    text = "法律援助投诉处理答复书 张三：经调查，本中心作出处理决定如下。"
    assert classify("application/pdf", text).kind is DocumentKind.REPLY_LETTER


def test_a_document_named_in_the_body_is_not_a_title() -> None:
    """GIVEN a complaint letter that mentions a 受理通知书 after its salutation
    WHEN it is classified THEN it is a complaint letter, not an acceptance notice."""
    text = "投诉书\n法律援助中心：\n我至今未收到受理通知书，特此投诉。"
    assert classify("application/pdf", text).kind is DocumentKind.COMPLAINT_LETTER


def test_an_email_stays_an_email_whatever_its_title() -> None:
    """GIVEN an e-mail whose first line is 答复书 WHEN classified THEN it is an e-mail (format first)."""
    assert classify("message/rfc822", "答复书\n张三：").kind is DocumentKind.EMAIL


def test_a_faxed_complaint_letter_is_still_a_fax() -> None:
    """GIVEN a G4 TIFF whose title is 投诉书 WHEN classified THEN it is filed by its channel, a fax, as before."""
    assert classify("image/tiff", "投诉书\n投诉人：张三", {"compression": "group4"}).kind is DocumentKind.FAX
