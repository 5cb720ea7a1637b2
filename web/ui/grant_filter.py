"""The grant filter as people write it: Chinese field names and a full-width colon (issue #11 item 1, ACS-04).

``GrantFilter.parse`` (records.access.identity) reads the English keys ``respondent:``,
``category:`` and ``received:``. An archivist types ``被投诉人:某律所`` or ``类别：收费``; that used
to end in "unknown key" in English. :func:`english_keys` rewrites the Chinese names (and the
full-width colon ``：``) to the keys the parser reads, before parsing, so both spellings name
the same filter and the grant stores the one canonical form (``GrantFilter.render``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["FIELD_NAMES", "english_keys"]

FIELD_NAMES: Mapping[str, str] = MappingProxyType({
    "被投诉人": "respondent", "被投诉单位": "respondent", "被投诉对象": "respondent", "被投诉方": "respondent",
    "类别": "category", "投诉类别": "category", "类型": "category", "分类": "category",
    "收到": "received", "收到日期": "received", "收件日期": "received", "接收日期": "received", "受理日期": "received",
})
"""Chinese field name → the parser's key (the forms' own labels and their usual synonyms)."""

# A key at the start of a word (after a space, a quote or the start), then ":" or "：". Longest names first,
# so 收到日期 is not read as 收到 followed by "日期".
_KEY = re.compile(r"(?<![^\s\"'])(" + "|".join(sorted(map(re.escape, [*FIELD_NAMES, "respondent", "category", "received"]),
                                                 key=len, reverse=True)) + r")[:：]")


def english_keys(text: str) -> str:
    """``被投诉人：某律所 收到:2026-01-01..`` → ``respondent:某律所 received:2026-01-01..``; values untouched."""
    return _KEY.sub(lambda m: FIELD_NAMES.get(m.group(1), m.group(1)) + ":", text)
