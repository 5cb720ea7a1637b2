"""Retention schedules (RET), pure: read the rules, match a dossier, compute its disposal date.

The schedule is an ordered list of ``[[rule]]`` tables; the first rule whose criteria all hold
wins, and the last rule must have none, so every dossier gets a rule. A rule's period runs from
its trigger event's date: ``disposal_date = trigger_date + years + months``; ``permanent = true``
means never. A dossier whose trigger has not happened yet (an open dossier under a closure rule)
has a rule but no date yet.
"""

from __future__ import annotations

import calendar
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from records.model import DossierInfo, DossierState as S
from retention.errors import InvalidScheduleError
from retention.model import DossierFacts, Plan, RetentionRule, RuleMatch, Trigger

__all__ = ["DEFAULT_RULES_TOML", "add_period", "default_rules", "facts_from", "facts_of", "load_rules", "match_rule", "parse_rules", "plan_for", "plans_for"]

# The seed schedule (RET): important material ten years, everything else one year, from closure.
DEFAULT_RULES_TOML = """\
[[rule]]
id = "important-10y"
description = "Important material (collective complaints, categories configured important): 10 years from closure"
important = true
trigger = "closure"
years = 10

[[rule]]
id = "default-1y"
description = "Seed default: 1 year from closure"
trigger = "closure"
years = 1
"""

_RULE_KEYS = {"id", "description", "trigger", "years", "months", "permanent", "action",
              "categories", "important", "outcomes", "document_kinds"}


def _strings(raw: Any, where: str, key: str) -> frozenset[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) and x for x in raw):
        raise InvalidScheduleError(where, f"{key} must be a non-empty list of strings")
    return frozenset(raw)


def _rule(raw: Mapping[str, Any], where: str) -> RetentionRule:
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise InvalidScheduleError(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip() or len(rule_id) > 64:
        raise InvalidScheduleError(where, "id must be a name of 1-64 characters")
    try:
        trigger = Trigger(raw.get("trigger", "closure"))
    except ValueError:
        raise InvalidScheduleError(where, f"trigger must be one of {', '.join(t.value for t in Trigger)}") from None
    years, months, permanent = raw.get("years", 0), raw.get("months", 0), raw.get("permanent", False)
    if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in (years, months)):
        raise InvalidScheduleError(where, "years and months must be whole numbers ≥ 0")
    if not isinstance(permanent, bool):
        raise InvalidScheduleError(where, "permanent must be true or false")
    if permanent == bool(years or months):
        raise InvalidScheduleError(where, "give either a period (years/months) or permanent = true")
    action = raw.get("action", "destroy")
    if action not in ("destroy", "transfer"):
        raise InvalidScheduleError(where, "action must be destroy or transfer")
    important = raw.get("important")
    if important is not None and not isinstance(important, bool):
        raise InvalidScheduleError(where, "important must be true or false")
    match = RuleMatch(
        categories=_strings(raw.get("categories"), where, "categories"), important=important,
        outcomes=_strings(raw.get("outcomes"), where, "outcomes"),
        document_kinds=_strings(raw.get("document_kinds"), where, "document_kinds"),
    )
    return RetentionRule(rule_id=rule_id.strip(), trigger=trigger, years=years, months=months, permanent=permanent,
                         match=match, action=action, description=str(raw.get("description", "")))


def parse_rules(data: Mapping[str, Any], *, source: str = "schedule") -> tuple[RetentionRule, ...]:
    """Rules from a parsed TOML document (``[[rule]]`` tables), validated.

    Raises:
        InvalidScheduleError: no rules, a malformed rule, a duplicate id, or a last rule with criteria.
    """
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise InvalidScheduleError(source, "needs at least one [[rule]] table")
    rules = tuple(_rule(r, f"{source} rule {i + 1}") for i, r in enumerate(raw_rules))
    ids = [r.rule_id for r in rules]
    if len(set(ids)) != len(ids):
        raise InvalidScheduleError(source, "rule ids must be unique")
    if rules[-1].match != RuleMatch():
        raise InvalidScheduleError(source, f"the last rule ({rules[-1].rule_id}) must match everything (no criteria)")
    return rules


def default_rules() -> tuple[RetentionRule, ...]:
    return parse_rules(tomllib.loads(DEFAULT_RULES_TOML), source="built-in")


def load_rules(text: str | None, *, source: str) -> tuple[RetentionRule, ...]:
    """The schedule in ``text`` (TOML), or the built-in seed schedule when ``text`` is None."""
    if text is None:
        return default_rules()
    try:
        return parse_rules(tomllib.loads(text), source=source)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidScheduleError(source, f"not valid TOML: {exc}") from exc


def _matches(m: RuleMatch, f: DossierFacts) -> bool:
    return ((m.categories is None or f.category in m.categories)
            and (m.important is None or m.important == f.important)
            and (m.outcomes is None or f.outcome in m.outcomes)
            and (m.document_kinds is None or bool(m.document_kinds & f.document_kinds)))


def match_rule(rules: Sequence[RetentionRule], facts: DossierFacts) -> RetentionRule:
    """The first rule covering the dossier (the last rule covers everything)."""
    return next(r for r in rules if _matches(r.match, facts))


def add_period(start: date, years: int, months: int) -> date:
    """``start`` plus a period; a day missing from the target month falls back to its last day (29 Feb → 28 Feb)."""
    total = start.month - 1 + months
    year, month = start.year + years + total // 12, total % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _trigger_date(trigger: Trigger, f: DossierFacts) -> date | None:
    return {Trigger.CLOSURE: f.closed_on, Trigger.SEAL: f.sealed_on, Trigger.DECISION: f.decided_on}[trigger]


def plan_for(rules: Sequence[RetentionRule], facts: DossierFacts) -> Plan:
    """The dossier's plan under ``rules`` (RET): rule, trigger date, disposal date or permanent."""
    rule = match_rule(rules, facts)
    start = _trigger_date(rule.trigger, facts)
    disposal = None if rule.permanent or start is None else add_period(start, rule.years, rule.months)
    return Plan(archive_number=facts.archive_number, rule_id=rule.rule_id, trigger=rule.trigger, trigger_date=start,
                disposal_date=disposal, permanent=rule.permanent, action=rule.action)


def plans_for(rules: Sequence[RetentionRule], facts: Iterable[DossierFacts]) -> list[Plan]:
    return [plan_for(rules, f) for f in facts]


def _outcome(dates: Mapping[str, date]) -> str | None:
    """How the matter ended, for ``outcomes`` criteria: the furthest of these steps reached."""
    return next((str(st) for st in (S.VOID, S.REPLIED, S.DECIDED, S.NOT_ACCEPTED) if st in dates), None)


def facts_of(info: DossierInfo, *, important_categories: Iterable[str], collective_is_important: bool) -> DossierFacts:
    """What the schedule looks at in one dossier (see :func:`facts_from`)."""
    reg = info.registration
    return facts_from(info.dossier_id, info.archive_number, str(info.state), info.state_dates, category=reg.category,
                      collective=reg.collective_count is not None,
                      kinds=frozenset(doc.kind.value for doc in info.documents),
                      important_categories=important_categories, collective_is_important=collective_is_important)


def facts_from(dossier_id: str, archive_number: str, state: str, dates: Mapping[str, date], *, category: str | None,
               collective: bool, kinds: frozenset[str], important_categories: Iterable[str],
               collective_is_important: bool) -> DossierFacts:
    """Schedule facts from catalogue values; ``dates``: the first date of each lifecycle step.

    Important material: a category configured important, or a collective complaint (INT-F-21).
    Closure of a withdrawn (void) dossier is its withdrawal; a non-acceptance is its decision.
    """
    important = (category is not None and category in set(important_categories)) or (collective_is_important and collective)
    return DossierFacts(
        dossier_id=dossier_id, archive_number=archive_number, state=state, category=category, important=important,
        outcome=_outcome(dates), document_kinds=kinds, closed_on=dates.get(S.CLOSED) or dates.get(S.VOID),
        sealed_on=dates.get(S.SEALED), decided_on=dates.get(S.DECIDED) or dates.get(S.NOT_ACCEPTED),
    )
