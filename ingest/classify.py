"""Document kind from format and content, with the rule that fired (pure).

Rules are ordered: the first match wins, and its name is stored with the document so a person can
see why, and override it. Headings are looked for near the top of the text (where a notice's
title is), in Simplified and Traditional script.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from records.model import DocumentKind

_HEAD_CHARS = 400


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


_RULES: tuple[_Rule, ...] = (
    _Rule("media:email", DocumentKind.EMAIL, lambda m, t, md: m in ("message/rfc822", "application/vnd.ms-outlook", "application/mbox")),
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


def classify(media_type: str, text: str, metadata: dict[str, str] | None = None) -> Classification:
    """The kind of a document and the name of the rule that decided it."""
    meta = metadata or {}
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
