"""Retention schedules (RET): reading the rules, matching a dossier, computing its disposal date."""

from __future__ import annotations

from datetime import date

import pytest

from retention.errors import InvalidScheduleError
from retention.model import DossierFacts, Trigger
from retention.schedule import add_period, default_rules, load_rules, plan_for


def _facts(**kw: object) -> DossierFacts:
    base: dict[str, object] = dict(
        dossier_id="d1", archive_number="2611-001", state="sealed", category="收费", important=False, outcome="replied",
        document_kinds=frozenset({"complaint_letter", "decision"}), closed_on=date(2026, 11, 20),
        sealed_on=date(2026, 11, 25), decided_on=date(2026, 11, 10))
    base.update(kw)
    return DossierFacts(**base)  # type: ignore[arg-type]


SCHEDULE = """
[[rule]]
id = "fees-permanent"
categories = ["收费"]
outcomes = ["replied"]
permanent = true

[[rule]]
id = "transfer-after-seal"
document_kinds = ["evidence"]
trigger = "seal"
years = 3
months = 6
action = "transfer"

[[rule]]
id = "decision-5y"
trigger = "decision"
years = 5

[[rule]]
id = "rest"
years = 1
"""


def test_seed_default_keeps_ordinary_material_one_year_and_important_ten_from_closure() -> None:
    """The built-in schedule (no retention.toml): 1 year from closure; important material 10 years."""
    rules = default_rules()
    ordinary = plan_for(rules, _facts())
    important = plan_for(rules, _facts(important=True))
    assert (ordinary.rule_id, ordinary.trigger, ordinary.disposal_date) == ("default-1y", Trigger.CLOSURE, date(2027, 11, 20))
    assert (important.rule_id, important.disposal_date) == ("important-10y", date(2036, 11, 20))


def test_first_matching_rule_wins_on_category_outcome_and_document_kind() -> None:
    rules = load_rules(SCHEDULE, source="test")
    permanent = plan_for(rules, _facts())
    assert permanent.permanent and permanent.disposal_date is None and permanent.rule_id == "fees-permanent"
    transfer = plan_for(rules, _facts(category="拖延", document_kinds=frozenset({"evidence"})))
    assert (transfer.rule_id, transfer.action, transfer.trigger_date, transfer.disposal_date) == (
        "transfer-after-seal", "transfer", date(2026, 11, 25), date(2030, 5, 25))
    decided = plan_for(rules, _facts(outcome="not_accepted"))
    assert (decided.rule_id, decided.disposal_date) == ("decision-5y", date(2031, 11, 10))


def test_an_open_dossier_has_its_rule_but_no_date_until_the_trigger_happens() -> None:
    plan = plan_for(default_rules(), _facts(state="investigating", closed_on=None, sealed_on=None))
    assert plan.rule_id == "default-1y" and plan.trigger_date is None and plan.disposal_date is None


def test_period_from_29_february_ends_on_the_last_day_of_february() -> None:
    assert add_period(date(2028, 2, 29), 1, 0) == date(2029, 2, 28)
    assert add_period(date(2026, 8, 31), 0, 6) == date(2027, 2, 28)
    assert add_period(date(2026, 11, 30), 0, 14) == date(2028, 1, 30)


@pytest.mark.parametrize("text, problem", [
    ("", "at least one"),
    ('[[rule]]\nid = "a"\nyears = 1\ncategories = ["x"]\n', "must match everything"),
    ('[[rule]]\nid = "a"\n', "either a period"),
    ('[[rule]]\nid = "a"\nyears = 1\npermanent = true\n', "either a period"),
    ('[[rule]]\nid = "a"\nyears = 1\ntrigger = "birthday"\n', "trigger"),
    ('[[rule]]\nid = "a"\nyears = 1\ncolour = "red"\n', "unknown key"),
    ('[[rule]]\nid = "a"\nyears = 1\n[[rule]]\nid = "a"\nyears = 2\n', "unique"),
    ('[[rule]\n', "not valid TOML"),
])
def test_a_malformed_schedule_is_refused_with_its_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidScheduleError, match=problem):
        load_rules(text, source="retention.toml")
