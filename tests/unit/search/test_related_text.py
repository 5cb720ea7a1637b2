"""The text similarity behind "possibly related complaints" (ACC-NO-01): shingles, Jaccard, MinHash/LSH, MLT."""

from __future__ import annotations

from datetime import datetime, timezone

from records.model import DossierInfo, DossierState, Registration
from search.query import parse
from search.related import (
    PART_CAP, dossier_text, earlier_key, jaccard, lsh_keys, minhash, more_like_this, shingles,
)

LETTER = "王律师收取代理费八千元后长期不联系，开庭前一天才告知未提交证据材料，导致仲裁请求被驳回。"


def test_a_re_punctuated_or_traditional_copy_is_the_same_text_and_another_letter_is_not() -> None:
    """GIVEN a letter, its copy with other punctuation, spacing and full-width letters, its
    Traditional-script copy, and another letter
    WHEN their shingles are compared
    THEN both copies score 1.0 against the letter, the other letter close to 0."""
    base = shingles(LETTER)
    assert jaccard(base, shingles(LETTER.replace("，", " ").replace("。", "!\n"))) == 1.0
    assert jaccard(base, shingles("王律師收取代理費八千元後長期不聯繫，開庭前一天才告知未提交證據材料，導致仲裁請求被駁回。")) == 1.0
    assert jaccard(base, shingles("法律援助中心工作人员态度恶劣，拒绝解释申请材料要求。")) < 0.1
    assert jaccard(frozenset(), base) == 0.0
    assert all(isinstance(h, int) for h in base)


def test_near_duplicates_share_an_lsh_band_and_texts_sharing_only_boilerplate_do_not() -> None:
    """GIVEN a letter, the same letter with one sentence added, and another letter that opens with
    the same formula line
    WHEN their MinHash signatures are banded
    THEN the near-duplicate shares a band key; the one sharing only the formula shares none."""
    formula = "尊敬的领导您好我要投诉"
    keys = set(lsh_keys(minhash(shingles(formula + LETTER))))
    assert keys & set(lsh_keys(minhash(shingles(formula + LETTER + "请求退还代理费。"))))
    other = formula + "法律援助中心工作人员接待时态度恶劣，拒绝解释申请材料要求，多次让我来回奔波，要求道歉。"
    assert not keys & set(lsh_keys(minhash(shingles(other))))


def test_more_like_this_weighs_rare_terms_over_boilerplate_and_keeps_latin_words() -> None:
    """GIVEN a text repeating the formula words 律师/投诉/事务 and once naming the matter's own words,
    a Latin word and query syntax
    WHEN the more-like-this query is made
    THEN it parses, the matter's words come before the formula words despite fewer occurrences,
    the Latin word is passed as written (not its stem) and no operator or field syntax remains."""
    text = "律师 律师 律师 投诉 投诉 事务 事务 respondent:某所 AND (NOT x) Negotiations 仲裁驳回"
    query = more_like_this(text, terms=6)
    parse(query)
    words = query.split()
    assert {"仲裁", "驳回"} <= set(words) and not {"律师", "投诉", "事务"} & set(words)
    assert "negotiations" in words and "negoti" not in words
    assert ":" not in query and "AND" not in query and "(" not in query


def test_each_part_is_cut_before_it_is_compared_or_queried() -> None:
    """GIVEN a dossier whose letter is a megabyte long
    WHEN its text is assembled
    THEN the letter contributes its first PART_CAP characters only."""
    info = DossierInfo("d", "2611-001", DossierState.REGISTERED,
                       Registration(matter="投诉律师", received_at=datetime(2026, 11, 1, tzinfo=timezone.utc)),
                       registered_at=datetime(2026, 11, 1, tzinfo=timezone.utc), registered_by="clerk")
    text = dossier_text(info, {"2611-001-01": "甲" * 1_000_000})
    assert len(text) == len("投诉律师\n") + PART_CAP


def test_earlier_compares_serials_as_numbers() -> None:
    """GIVEN two dossiers received at the same moment, numbered 2611-999 and 2611-1000
    WHEN ordered by receipt THEN 2611-999 comes first (the strings would sort the other way)."""
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)

    def info(number: str) -> DossierInfo:
        return DossierInfo(number, number, DossierState.REGISTERED, Registration(matter="m", received_at=at),
                           registered_at=at, registered_by="clerk")

    assert earlier_key(info("2611-999")) < earlier_key(info("2611-1000"))
