"""Possibly related complaints (ACC-NO-01, STA-14): earlier dossiers with the same complainant,
respondent or near-identical text, found through the real archive and embedded index, within
the caller's scope, destroyed ones never, and each lookup logged once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from records.access.errors import AccessDeniedError
from records.access.identity import Identity, Role
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from retention.disposal import execute_disposition
from retention.model import Approval
from search.related import MatchReason, RelatedDossier
from web.bootstrap import Services, build_services, init_archive

OPERATOR = Identity.operator("test-setup")
PASSWORD = "correct horse 1"
DAY = datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc)
LETTER = ("本人于二〇二六年五月委托某律师事务所王律师代理劳动争议仲裁案件，约定代理费八千元。"
          "王律师收费后长期不联系，开庭前一天才告知未提交证据材料，导致仲裁请求被驳回。请求退还代理费并处理该律师。")
OTHER = "法律援助中心工作人员接待时态度恶劣，拒绝解释申请材料要求，多次让我来回奔波，要求道歉。"


def _dossier(svc: Services, days: int, text: str, *, complainant: str | None = "张三",
             respondent: str | None = "某律师事务所", department: str = "A", matter: str = "投诉律师") -> str:
    info = svc.records.register_complaint("clerk", Registration(
        matter=matter, received_at=DAY + timedelta(days=days), complainant=complainant, respondent=respondent,
        department=department, anonymous=complainant is None))
    svc.records.file_document("clerk", info.archive_number, text.encode(), kind=DocumentKind.COMPLAINT_LETTER,
                              filename="letter.txt", media_type="text/plain",
                              analysis=DocumentAnalysis(outcome="ok", text=text))
    return info.archive_number


def _by_number(found: tuple[RelatedDossier, ...]) -> dict[str, RelatedDossier]:
    return {r.archive_number: r for r in found}


@pytest.fixture
def handler_a(services: Services) -> Identity:
    services.access.add_user(OPERATOR, "handler_a", Role.HANDLER, departments=("A",), password=PASSWORD)
    services.access.add_user(OPERATOR, "archivist", Role.ARCHIVIST, password=PASSWORD)
    return Identity("handler_a", Role.HANDLER, departments=frozenset({"A"}))


ARCHIVIST = Identity("archivist", Role.ARCHIVIST, departments=None)


def test_the_same_complainant_is_found_through_the_index_digest_and_only_earlier_dossiers(
        services: Services, handler_a: Identity) -> None:
    """GIVEN an earlier complaint by 张三 against another respondent with another text, and a later one
    WHEN a handler looks up related complaints of 张三's new dossier
    THEN the earlier one is listed for "same complainant" only, and the later one is not."""
    earlier = _dossier(services, 0, OTHER, respondent="甲法律援助中心")
    new = _dossier(services, 10, LETTER)
    later = _dossier(services, 20, OTHER, respondent="甲法律援助中心")

    found = _by_number(services.related.lookup(handler_a, new))

    assert found[earlier].reasons == (MatchReason.SAME_COMPLAINANT,)
    assert found[earlier].similarity is None
    assert later not in found and new not in found


def test_the_same_respondent_and_a_near_identical_letter_are_found_with_their_reasons(
        services: Services, handler_a: Identity) -> None:
    """GIVEN an earlier anonymous complaint against the same firm with a re-punctuated copy of the
    letter, and one against the same firm about something else
    WHEN the new dossier's related complaints are looked up
    THEN the copy is listed for "same respondent" and "similar text" with its score, first; the
    other only for "same respondent"."""
    copy = _dossier(services, 0, LETTER.replace("，", " ").replace("。", "\n") + " 附件两份", complainant=None)
    unrelated = _dossier(services, 1, OTHER, complainant="李四")
    new = _dossier(services, 10, LETTER)

    found = services.related.lookup(handler_a, new)

    assert found[0].archive_number == copy
    assert found[0].reasons == (MatchReason.SAME_RESPONDENT, MatchReason.SIMILAR_TEXT)
    assert found[0].similarity is not None and found[0].similarity > 0.8
    assert _by_number(found)[unrelated].reasons == (MatchReason.SAME_RESPONDENT,)


def test_similar_text_alone_is_enough_and_unlike_texts_are_not_listed(
        services: Services, handler_a: Identity) -> None:
    """GIVEN earlier dossiers with other parties: one with the same letter, one with another text
    WHEN the new dossier's related complaints are looked up
    THEN only the one with the same letter is listed, for similar text."""
    same = _dossier(services, 0, LETTER, complainant="王五", respondent="乙律师事务所")
    _dossier(services, 1, OTHER, complainant="赵六", respondent="丙律师事务所")
    new = _dossier(services, 10, LETTER, complainant="钱七", respondent="丁律师事务所")

    found = services.related.lookup(handler_a, new)

    assert [(r.archive_number, r.reasons) for r in found] == [(same, (MatchReason.SIMILAR_TEXT,))]


def test_a_dossier_outside_the_callers_scope_is_never_shown(services: Services, handler_a: Identity) -> None:
    """GIVEN an earlier dossier of department B with the same complainant, respondent and letter
    WHEN a handler of department A looks up the new dossier's related complaints
    THEN nothing is listed; an archivist (whole archive) sees it."""
    other_department = _dossier(services, 0, LETTER, department="B")
    new = _dossier(services, 10, LETTER)

    assert services.related.lookup(handler_a, new) == ()
    assert [r.archive_number for r in services.related.lookup(ARCHIVIST, new)] == [other_department]


def test_a_destroyed_dossier_is_never_shown(services: Services, handler_a: Identity, settings: Any) -> None:
    """GIVEN an earlier dossier with the same parties and letter, then destroyed by an approved disposition
    WHEN the new dossier's related complaints are looked up
    THEN it is not listed."""
    doomed = _dossier(services, 0, LETTER)
    for state in (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
                  DossierState.SEALED):
        services.records.advance("clerk", doomed, state,
                                 override_reason="test fixture" if state is DossierState.CLOSED else None)
    new = _dossier(services, 10, LETTER)
    assert [r.archive_number for r in services.related.lookup(handler_a, new)] == [doomed]
    approvals = [Approval("档案员", "archivist", DAY, "review"), Approval("主任", "manager", DAY, "approve")]
    execute_disposition(services.retention.disposition_desk.tools, disposition_id="d-rel", numbers=[doomed],
                        action="destroy", actor="archivist", approvals=approvals, rules={doomed: "R-10Y"},
                        out_dir=settings.data_dir / "certificates")

    assert services.related.lookup(handler_a, new) == ()


def test_each_lookup_is_decided_and_logged_once_and_a_hidden_dossier_is_refused(
        services: Services, handler_a: Identity) -> None:
    """GIVEN a dossier of department A and one of department B
    WHEN handler A looks up the related complaints of each
    THEN each lookup leaves exactly one SEARCH entry naming the dossier (allowed, then refused), and
    the lookup of the department-B dossier is refused."""
    mine = _dossier(services, 0, LETTER)
    theirs = _dossier(services, 1, LETTER, department="B")
    before = len(services.access.read_audit_log(OPERATOR))

    services.related.lookup(handler_a, mine)
    with pytest.raises(AccessDeniedError):
        services.related.lookup(handler_a, theirs)

    entries = services.access.read_audit_log(OPERATOR)[before:-1]  # the last one is this read
    assert [(e.event.action, e.event.object_ref, e.event.outcome.value, e.event.details.get("related"))
            for e in entries] == [("search", mine, "allowed", "1"), ("search", theirs, "refused", "1")]


@pytest.fixture
def on_opensearch(make_settings: Any, clock: Any, opensearch: Any) -> Iterator[Services]:
    """The archive with its index on the real OpenSearch node (tests/servers/opensearch.py)."""
    settings = make_settings(search={"url": opensearch.url, "index_prefix": opensearch.new_index_name("related")})
    init_archive(settings)
    services = build_services(settings, clock=clock)
    services.access.add_user(OPERATOR, "handler_a", Role.HANDLER, departments=("A",), password=PASSWORD)
    yield services
    services.close()


@pytest.mark.opensearch
def test_on_opensearch_the_same_parties_and_text_are_found(on_opensearch: Services) -> None:
    """GIVEN the archive on a real OpenSearch node and an earlier dossier with the same complainant,
    respondent and letter
    WHEN a department-A handler looks up the new dossier's related complaints
    THEN the earlier dossier is listed for all three reasons: the name filters (the server's
    keyword fields) and more-like-this work there as on fts5."""
    earlier = _dossier(on_opensearch, 0, LETTER)
    new = _dossier(on_opensearch, 10, LETTER)

    found = on_opensearch.related.lookup(Identity("handler_a", Role.HANDLER, departments=frozenset({"A"})), new)

    assert [(r.archive_number, r.reasons) for r in found] == [
        (earlier, (MatchReason.SAME_COMPLAINANT, MatchReason.SAME_RESPONDENT, MatchReason.SIMILAR_TEXT))]


def test_the_console_lists_related_dossiers_as_json(make_settings: Any, clock: Any) -> None:
    """GIVEN an archive with an earlier dossier by the same complainant with the same letter
    WHEN the operator runs `dossier related NUMBER --json` (and without --json)
    THEN the earlier dossier is listed with its received date, state, reasons and similarity."""
    from click.testing import CliRunner

    from web.cli import main

    settings = make_settings()
    init_archive(settings)
    services = build_services(settings, clock=clock)
    try:
        earlier = _dossier(services, 0, LETTER)
        new = _dossier(services, 10, LETTER, respondent="另一律师事务所")
    finally:
        services.close()

    out = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "related", new, "--json"])
    plain = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "related", new])

    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["related"] == [
        {"number": earlier, "received_on": "2026-10-01", "state": "registered", "matter": "投诉律师",
         "reasons": ["same_complainant", "similar_text"], "similarity": 1.0}]
    assert plain.exit_code == 0 and earlier in plain.output and "same_complainant, similar_text" in plain.output


def test_an_unreadable_candidate_is_skipped_and_the_others_are_still_listed(
        services: Services, handler_a: Identity, caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN two earlier dossiers by the same complainant with the same letter, the second one's
    stored letter gone from the vault
    WHEN the new dossier's related complaints are looked up
    THEN the lookup does not fail: the readable one is listed for the complainant and the text; the
    unreadable one for the complainant only (its text skipped), and the log says a candidate's text
    was skipped without naming anyone."""
    good = _dossier(services, 0, LETTER)
    before = set(services.vault.store.keys())
    broken = _dossier(services, 1, LETTER)
    for key in set(services.vault.store.keys()) - before:
        services.vault.store.delete(key)
    new = _dossier(services, 10, LETTER)

    with caplog.at_level("WARNING", logger="search.related"):
        found = _by_number(services.related.lookup(handler_a, new))

    assert found[good].reasons == (MatchReason.SAME_COMPLAINANT, MatchReason.SAME_RESPONDENT, MatchReason.SIMILAR_TEXT)
    assert found[broken].reasons == (MatchReason.SAME_COMPLAINANT, MatchReason.SAME_RESPONDENT)
    assert "skipped" in caplog.text and "张三" not in caplog.text


def test_a_withdrawn_earlier_dossier_is_not_listed_its_state_read_from_the_catalogue(
        services: Services, handler_a: Identity) -> None:
    """GIVEN two earlier dossiers with the same parties and letter, one then withdrawn (void)
    WHEN the new dossier's related complaints are looked up
    THEN only the live one is listed, with its catalogue state and matter."""
    live = _dossier(services, 0, LETTER, matter="投诉王律师收费")
    withdrawn = _dossier(services, 1, LETTER)
    services.records.advance("clerk", withdrawn, DossierState.VOID, note="withdrawn by the complainant")
    new = _dossier(services, 10, LETTER)

    found = services.related.lookup(handler_a, new)

    assert [(r.archive_number, r.state, r.matter) for r in found] == [(live, "registered", "投诉王律师收费")]


def test_earlier_on_the_same_day_compares_serials_as_numbers_across_999_and_1000(
        services: Services, handler_a: Identity) -> None:
    """GIVEN two dossiers received at the same moment with the same parties and letter, numbered
    …-999 and …-1000 (the series counter set just below 999)
    WHEN each one's related complaints are looked up
    THEN …-999 is earlier than …-1000 (listed for it), and not the other way round — as strings
    "…-1000" would sort first."""
    from sqlalchemy import update

    from records.tables import NumberSeriesRow

    first = _dossier(services, 0, OTHER, complainant="某人", respondent="某所")
    with services.uow.write() as s:
        s.execute(update(NumberSeriesRow).values(last_serial=998))
    lower = _dossier(services, 5, LETTER)
    higher = _dossier(services, 5, LETTER)
    assert (first.endswith("-001") or first.endswith("-1")) and lower.endswith("-999") and higher.endswith("-1000")

    assert [r.archive_number for r in services.related.lookup(handler_a, higher)] == [lower]
    assert services.related.lookup(handler_a, lower) == ()


def test_the_service_has_no_public_door_around_the_gate(services: Services) -> None:
    """GIVEN the related-complaints service WHEN its public methods are listed
    THEN the only one that reads dossiers is `lookup`, which goes through the gate (no caller
    can hand the worker a scope of its own)."""
    public = {n for n in dir(services.related) if not n.startswith("_") and callable(getattr(services.related, n))}
    assert public == {"lookup"}
