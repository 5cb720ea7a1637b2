"""Document kind from format and content, with the rule that fired (pure).

Two passes. First the document's *title* — its first short lines, whitespace compacted so a
letter-spaced scan title (「受 理 通 知 书」) reads as one word — is matched against the titles each
kind is known by; the most specific (longest) title found wins, and the rule is named
``title:<name>``. Only when no title matches do the ordered rules run over the head of the text
(first match wins; names such as ``heading:处理决定`` are stored with documents and kept stable).

Why the title comes first: a statutory reply letter 「法律援助投诉处理答复书」 says 「作出处理决定」 in
its body, and the body rule ``heading:处理决定`` used to file every reply letter as a decision
(ARC-2-05 then looked missing). The office's own documents (ACC-DOC-05, TL-03, TL-36) are
recognised by their titles in Simplified and Traditional script.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from records.model import DocumentKind

if TYPE_CHECKING:
    import opencc

_HEAD_CHARS = 400
# A title is one of the first few lines, and short; a longer line is already the body.
_TITLE_LINES = 3
_TITLE_MAX_CHARS = 40


@dataclass(frozen=True, slots=True)
class Classification:
    kind: DocumentKind
    rule: str


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    kind: DocumentKind
    test: Callable[[str, str, dict[str, str]], bool]


def _heading(*words: str) -> Callable[[str, str, dict[str, str]], bool]:
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    return lambda media, text, meta: bool(pattern.search(_compact(text[:_HEAD_CHARS])))


def _compact(text: str) -> str:
    # Scanned titles are often letter-spaced ("受 理 通 知 书"); drop whitespace before matching.
    return re.sub(r"\s+", "", text)


def _is_fax(media: str, text: str, meta: dict[str, str]) -> bool:
    if media == "image/tiff" and any(v in meta.get("compression", "").lower() for v in ("group3", "group4", "g3", "g4", "ccitt")):
        return True
    head = text[:_HEAD_CHARS]
    return bool(re.search(r"(传真|傳真|fax)\s*(号码|號碼|no\.?|number|:|：)", head, re.IGNORECASE))


_EMAIL = _Rule("media:email", DocumentKind.EMAIL, lambda m, t, md: m in ("message/rfc822", "application/vnd.ms-outlook", "application/mbox"))
# An archive's own text is the list of its members' names: a member named 投诉信.txt says what the
# member is, not the archive. Each member is classified itself when it is filed as a child document.
_ARCHIVE = _Rule("media:archive", DocumentKind.OTHER, lambda m, t, md: m in ("application/zip",))
_RULES: tuple[_Rule, ...] = (
    _EMAIL,
    _Rule("heading:不予受理通知书", DocumentKind.NON_ACCEPTANCE_NOTICE, _heading("不予受理通知书", "不予受理通知書", "不予受理决定", "不予受理決定")),
    _Rule("heading:受理通知书", DocumentKind.ACCEPTANCE_NOTICE, _heading("受理通知书", "受理通知書", "受理决定书", "受理決定書", "notice of acceptance")),
    _Rule("heading:延期通知", DocumentKind.EXTENSION_NOTICE, _heading("延期通知", "延长办理期限", "延長辦理期限", "延期办理", "延期辦理", "extension notice")),
    _Rule("heading:授权委托书", DocumentKind.POWER_OF_ATTORNEY, _heading("授权委托书", "授權委託書", "委托书", "委託書", "power of attorney")),
    _Rule("heading:笔录", DocumentKind.INVESTIGATION_MINUTES, _heading(
        "询问笔录", "詢問筆錄", "调查笔录", "調查筆錄", "谈话笔录", "談話筆錄", "笔录", "筆錄", "会议纪要", "會議紀要",
        "调查记录", "調查記錄", "minutes of", "interview record")),
    _Rule("heading:口头投诉记录", DocumentKind.ORAL_COMPLAINT_RECORD, _heading("口头投诉记录", "口頭投訴記錄", "来访登记", "來訪登記", "电话投诉记录", "電話投訴記錄")),
    _Rule("heading:处理决定", DocumentKind.DECISION, _heading("处理决定书", "處理決定書", "处理决定", "處理決定", "处理意见书", "處理意見書", "decision")),
    _Rule("heading:答复书", DocumentKind.REPLY_LETTER, _heading("答复书", "答復書", "答覆書", "答复函", "答覆函", "投诉处理答复", "reply to your complaint")),
    _Rule("heading:回访记录", DocumentKind.FOLLOW_UP_RECORD, _heading("回访记录", "回訪記錄", "回访", "回訪", "满意度调查", "滿意度調查", "follow-up")),
    _Rule("content:fax", DocumentKind.FAX, _is_fax),
    _Rule("heading:投诉", DocumentKind.COMPLAINT_LETTER, _heading("投诉书", "投訴書", "投诉信", "投訴信", "投诉函", "投訴函", "投诉", "投訴", "complaint", "举报", "舉報")),
    _Rule("heading:证据", DocumentKind.EVIDENCE, _heading("证据", "證據", "证明", "證明", "收据", "收據", "发票", "發票", "evidence", "receipt")),
    _Rule("media:photo", DocumentKind.EVIDENCE, lambda m, t, md: m in ("image/jpeg", "image/png", "image/heic", "image/webp")),
)


@dataclass(frozen=True, slots=True)
class _Title:
    """The titles a kind of document is known by (Simplified; Traditional titles are folded first).

    ``words`` match anywhere in a title line; ``patterns`` are for title *forms* such as
    「关于……的处理决定」, and count as specific as their ``weight``.
    """

    name: str
    kind: DocumentKind
    words: tuple[str, ...]
    patterns: tuple[tuple[str, int], ...] = ()


# The documents of the complaint procedure, by title (ACC-DOC-*, TL-03 extension notice, ACC-DOC-05
# reply letter, TL-36 chaser). Evidence is not here: its words (证明, 收据) are not document titles.
_TITLES: tuple[_Title, ...] = (
    _Title("投诉书", DocumentKind.COMPLAINT_LETTER, ("投诉书", "投诉信", "投诉函", "投诉状", "举报信", "举报书")),
    _Title("答复书", DocumentKind.REPLY_LETTER, (
        "投诉处理答复书", "处理答复书", "答复书", "答复意见书", "答复函", "复函", "回复函", "答复通知书"),
        ((r"关于.+的答复(意见)?$", 4),)),
    _Title("处理决定书", DocumentKind.DECISION, (
        "投诉处理决定书", "处理决定书", "处理意见书", "投诉处理意见书"),
        ((r"关于.+的处理(决定|意见)$", 4),)),
    _Title("受理通知书", DocumentKind.ACCEPTANCE_NOTICE, ("受理通知书", "投诉受理通知书", "受理决定书", "受理告知书")),
    _Title("不予受理通知书", DocumentKind.NON_ACCEPTANCE_NOTICE, (
        "不予受理通知书", "不予受理决定书", "不予受理告知书", "不予受理通知", "不予受理的通知")),
    _Title("延期通知书", DocumentKind.EXTENSION_NOTICE, (
        "延期通知书", "延期通知", "延期办理通知书", "延长办理期限通知书", "延长办理期限的通知",
        "延长处理期限通知书", "延长期限通知书"),
        ((r"延长.*期限的?通知书?$", 6),)),
    _Title("笔录", DocumentKind.INVESTIGATION_MINUTES, (
        "调查笔录", "询问笔录", "谈话笔录", "笔录", "会议纪要", "调查记录")),
    _Title("授权委托书", DocumentKind.POWER_OF_ATTORNEY, ("授权委托书", "委托书", "委托代理书")),
    _Title("回访记录", DocumentKind.FOLLOW_UP_RECORD, ("回访记录", "回访记录表", "回访单", "满意度调查表")),
    _Title("口头投诉记录", DocumentKind.ORAL_COMPLAINT_RECORD, (
        "口头投诉记录", "电话投诉记录", "来访登记表", "来访记录")),
    # TL-36 chaser 催办单 and overdue inquiry 治办单: there is no kind of their own yet, but a
    # recognised title keeps them from being filed as complaint letters (their bodies say 投诉).
    _Title("催办单", DocumentKind.OTHER, ("催办单", "催办通知书", "催办通知", "治办单")),
)
_TITLE_WORDS: tuple[tuple[re.Pattern[str], int, _Title], ...] = tuple(
    [(re.compile(re.escape(w)), len(w), t) for t in _TITLES for w in t.words]
    + [(re.compile(p), weight, t) for t in _TITLES for p, weight in t.patterns]
)
_SENTENCE_MARK = re.compile(r"[：:，,。；;！!？?]")


@cache
def _t2s() -> opencc.OpenCC:
    # Made on first use: opening the archive imports this module, and only intake classifies.
    import opencc

    return opencc.OpenCC("t2s")


def _title_lines(text: str) -> list[str]:
    """The first short lines, compacted and in Simplified script.

    A line stops being a title at its first sentence mark (「张三：」 is the salutation, and what
    follows it is the body), and the lines after it are not looked at.
    """
    lines: list[str] = []
    for raw in text[:_HEAD_CHARS].splitlines():
        line = _compact(raw)
        if not line:
            continue
        head, *rest = _SENTENCE_MARK.split(line, maxsplit=1)
        if head and len(head) <= _TITLE_MAX_CHARS:
            lines.append(head)
        if rest or len(head) > _TITLE_MAX_CHARS or len(lines) >= _TITLE_LINES:
            break
    return [_t2s().convert(line) for line in lines]


def _by_title(text: str) -> Classification | None:
    """The most specific known title in the document's title lines, if any.

    Most specific = the longest title word (「不予受理通知书」 over 「受理通知书」, 「投诉处理答复书」
    over 「答复书」); between equally specific ones, the earlier line.
    """
    best: tuple[int, int, _Title] | None = None
    for index, line in enumerate(_title_lines(text)):
        for pattern, weight, title in _TITLE_WORDS:
            if pattern.search(line) and (best is None or (weight, -index) > (best[0], -best[1])):
                best = (weight, index, title)
    return Classification(best[2].kind, f"title:{best[2].name}") if best else None


def classify(media_type: str, text: str, metadata: dict[str, str] | None = None) -> Classification:
    """The kind of a document and the name of the rule that decided it.

    An e-mail is an e-mail and an archive "other" whatever they say; otherwise the title decides (``title:*``), and only
    without a known title the ordered rules over the head of the text (``heading:*``, ``content:*``,
    ``media:*``), then ``default:other``.
    """
    meta = metadata or {}
    for by_format in (_EMAIL, _ARCHIVE):
        if by_format.test(media_type, text, meta):
            return Classification(by_format.kind, by_format.name)
    titled = _by_title(text)
    if titled is not None and titled.kind is DocumentKind.COMPLAINT_LETTER and _is_fax(media_type, text, meta):
        # A complaint that came by fax is filed by its channel, as the ordered rules always did.
        return Classification(DocumentKind.FAX, "content:fax")
    if titled is not None:
        return titled
    for rule in _RULES:
        if rule.test(media_type, text, meta):
            return Classification(rule.kind, rule.name)
    return Classification(DocumentKind.OTHER, "default:other")


_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
_COMPLAINANT = re.compile(r"投[诉訴]人\s*[:：]\s*([^\s，,。;；]{1,20})")


def filing_hints(text: str, metadata: dict[str, str]) -> dict[str, str]:
    """What helps filing: first date in the text, sender, subject, complainant's name if written."""
    hints: dict[str, str] = {}
    m = _DATE.search(text)
    if m:
        y, mo, d = (int(x) for x in m.groups())
        if 1 <= mo <= 12 and 1 <= d <= 31:
            hints["date"] = f"{y:04d}-{mo:02d}-{d:02d}"
    for key in ("from", "sender", "subject", "title", "author"):
        if metadata.get(key):
            hints[key] = metadata[key]
    c = _COMPLAINANT.search(text)
    if c:
        hints["complainant"] = c.group(1)
    return hints
