"""Registration (INT-F) conversions: catalogue row ↔ domain, and user input → domain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any

from records.errors import InvalidRegistrationError
from records.model import Channel, ComplainantType, Registration, RespondentType
from records.tables import DossierRow


def registration_of(row: DossierRow) -> Registration:
    return Registration(
        matter=row.matter,
        received_at=row.received_at,
        channel=Channel(row.channel),
        complainant=row.complainant,
        complainant_contact=row.complainant_contact,
        complainant_type=ComplainantType(row.complainant_type) if row.complainant_type else None,
        respondent=row.respondent,
        respondent_type=RespondentType(row.respondent_type) if row.respondent_type else None,
        request=row.request,
        facts_and_reasons=row.facts_and_reasons,
        event_on=row.event_on,
        evidence=tuple(row.evidence or ()),
        expected_remedy=row.expected_remedy,
        receiving_officer=row.receiving_officer,
        department=row.department,
        category=row.category,
        anonymous=row.anonymous,
        collective_count=row.collective_count,
        referring_body=row.referring_body,
        sla_profile=row.sla_profile,
    )


def registration_columns(reg: Registration) -> dict[str, Any]:
    """The DossierRow column values of a registration (``sla_profile`` is resolved by the caller)."""
    return {
        "matter": reg.matter,
        "received_at": reg.received_at,
        "channel": reg.channel,
        "complainant": reg.complainant,
        "complainant_contact": reg.complainant_contact,
        "complainant_type": reg.complainant_type,
        "respondent": reg.respondent,
        "respondent_type": reg.respondent_type,
        "request": reg.request,
        "facts_and_reasons": reg.facts_and_reasons,
        "event_on": reg.event_on,
        "evidence": list(reg.evidence),
        "expected_remedy": reg.expected_remedy,
        "receiving_officer": reg.receiving_officer,
        "department": reg.department,
        "category": reg.category,
        "anonymous": reg.anonymous,
        "collective_count": reg.collective_count,
        "referring_body": reg.referring_body,
    }


_TEXT_FIELDS = (
    "matter", "complainant", "complainant_contact", "respondent", "request", "facts_and_reasons",
    "expected_remedy", "receiving_officer", "department", "category", "referring_body", "sla_profile",
)
_KNOWN = frozenset(_TEXT_FIELDS) | {
    "received_at", "channel", "complainant_type", "respondent_type", "event_on", "evidence",
    "anonymous", "collective_count",
}


def parse_moment(value: object, tz: tzinfo, field: str) -> datetime:
    """A receipt time from user input: ISO date or date-time; a naive value is archive-local time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise InvalidRegistrationError(field, f"{value!r} is not a date or date-time (YYYY-MM-DD[ HH:MM])") from exc
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def parse_day(value: object, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InvalidRegistrationError(field, f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _choice(enum: type[StrEnum], value: object, field: str) -> Any:
    try:
        return enum(str(value).strip().lower())
    except ValueError as exc:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidRegistrationError(field, f"{value!r} is not one of: {allowed}") from exc


_MAX_COUNT = 2**31 - 1


def parse_registration(data: Mapping[str, object], tz: tzinfo, *, now: datetime) -> Registration:
    """Build a Registration from user input (a JSON/TOML form or CLI flags), naming any bad field.

    ``received_at`` defaults to ``now``; unknown keys are refused so a typo is not silently lost.
    """
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise InvalidRegistrationError(unknown[0], f"unknown registration field (known: {', '.join(sorted(_KNOWN))})")
    values: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        if data.get(name) not in (None, ""):
            values[name] = str(data[name])
    if "matter" not in values:
        raise InvalidRegistrationError("matter", "the complaint matter (投诉事项) is required")
    values["received_at"] = parse_moment(data["received_at"], tz, "received_at") if data.get("received_at") else now
    if data.get("channel"):
        values["channel"] = _choice(Channel, data["channel"], "channel")
    if data.get("complainant_type"):
        values["complainant_type"] = _choice(ComplainantType, data["complainant_type"], "complainant_type")
    if data.get("respondent_type"):
        values["respondent_type"] = _choice(RespondentType, data["respondent_type"], "respondent_type")
    if data.get("event_on"):
        values["event_on"] = parse_day(data["event_on"], "event_on")
    evidence = data.get("evidence") or ()
    if isinstance(evidence, str):
        evidence = (evidence,)
    if not isinstance(evidence, (list, tuple)):
        raise InvalidRegistrationError("evidence", "must be a list of descriptions")
    values["evidence"] = tuple(str(e) for e in evidence)
    anonymous = data.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise InvalidRegistrationError("anonymous", "must be true or false")
    values["anonymous"] = anonymous
    if data.get("collective_count") not in (None, ""):
        try:
            count = int(str(data["collective_count"]))
        except ValueError as exc:
            raise InvalidRegistrationError("collective_count", "must be a whole number") from exc
        # The column is a 32-bit INTEGER: PostgreSQL refuses more with an error of its own, which
        # would surface as a 500 rather than as this field's fault. (At least 1: RecordsService.)
        if count > _MAX_COUNT:
            raise InvalidRegistrationError("collective_count", f"must be a whole number up to {_MAX_COUNT}")
        values["collective_count"] = count
    return Registration(**values)
