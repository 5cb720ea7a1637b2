"""Registration (INT-F) conversions: catalogue row ↔ domain, and user input → domain.

The row side seals and opens the personal and free-text fields with the dossier's own key
(``records.sealing``, issue #12): a ``DossierRow`` never holds them in clear.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any

from records.errors import InvalidRegistrationError
from records.model import Channel, ComplainantType, Registration, RespondentType
from records.sealing import FieldSealer
from records.tables import DossierRow


def registration_of(row: DossierRow, sealer: FieldSealer, *, opened: Collection[str] | None = None) -> Registration:
    """The registration of a dossier row, its sealed fields opened with the dossier's key (issue #12).

    Once the key is destroyed (disposal) the sealed fields read as blank: ``None``, an empty
    matter and no evidence; the fields kept in clear (respondent, category, dates …) stay.

    ``opened`` limits the sealed fields opened to those named (the rest read as blank), for a
    listing that shows only a few of them.

    Raises:
        WrongKeyError: a sealed value fails authentication (copied from another dossier or field).
    """
    def field_of(field: str) -> str | None:
        if opened is not None and field not in opened:
            return None
        return sealer.open(row.id, field, getattr(row, field))

    return Registration(
        matter=field_of("matter") or "",
        received_at=row.received_at,
        channel=Channel(row.channel),
        complainant=field_of("complainant"),
        complainant_contact=field_of("complainant_contact"),
        complainant_type=ComplainantType(row.complainant_type) if row.complainant_type else None,
        respondent=row.respondent,
        respondent_type=RespondentType(row.respondent_type) if row.respondent_type else None,
        request=field_of("request"),
        facts_and_reasons=field_of("facts_and_reasons"),
        event_on=row.event_on,
        evidence=sealer.open_list(row.id, "evidence", row.evidence) if opened is None or "evidence" in opened else (),
        expected_remedy=field_of("expected_remedy"),
        receiving_officer=field_of("receiving_officer"),
        department=row.department,
        category=row.category,
        anonymous=row.anonymous,
        collective_count=row.collective_count,
        referring_body=field_of("referring_body"),
        sla_profile=row.sla_profile,
    )


def registration_columns(dossier_id: str, reg: Registration, sealer: FieldSealer) -> dict[str, Any]:
    """The DossierRow column values of a registration (``sla_profile`` is resolved by the caller).

    Personal and free-text fields (``SEALED_DOSSIER_FIELDS``, the evidence list) are sealed under
    ``dossier_id``'s key, which must exist (issue #12).
    """
    def sealed(field: str) -> str | None:
        return sealer.seal(dossier_id, field, getattr(reg, field))

    return {
        "matter": sealed("matter"),
        "received_at": reg.received_at,
        "channel": reg.channel,
        "complainant": sealed("complainant"),
        "complainant_contact": sealed("complainant_contact"),
        "complainant_type": reg.complainant_type,
        "respondent": reg.respondent,
        "respondent_type": reg.respondent_type,
        "request": sealed("request"),
        "facts_and_reasons": sealed("facts_and_reasons"),
        "event_on": reg.event_on,
        "evidence": sealer.seal_list(dossier_id, "evidence", reg.evidence),
        "expected_remedy": sealed("expected_remedy"),
        "receiving_officer": sealed("receiving_officer"),
        "department": reg.department,
        "category": reg.category,
        "anonymous": reg.anonymous,
        "collective_count": reg.collective_count,
        "referring_body": sealed("referring_body"),
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
