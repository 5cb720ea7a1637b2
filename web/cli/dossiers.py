"""`dossier new | show | list | advance | extend | withdraw`: registering and following complaints."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from records.errors import InvalidRegistrationError
from records.model import Channel, ComplainantType, DocumentKind, DossierInfo, DossierState, RespondentType
from web.cli._output import echo_json, table
from web.cli.app import CliContext, command_errors, main, pass_cli

_FLAG_FIELDS = {
    "complainant": "Complainant's name (INT-F-01).",
    "complainant_contact": "Phone / address (INT-F-02).",
    "respondent": "Who is complained about (INT-F-04).",
    "matter": "The complaint matter, 投诉事项 (INT-F-05). Required.",
    "request": "What the complainant asks for, 投诉请求 (INT-F-06).",
    "facts_and_reasons": "Main facts and reasons (INT-F-07).",
    "expected_remedy": "Remedy the complainant expects (INT-F-10).",
    "receiving_officer": "Staff member who received it, 接单人 (INT-F-13).",
    "department": "Accepting department (INT-F-13).",
    "category": "Complaint category (CAT).",
    "referring_body": "Referring authority, for referrals (INT-F-17).",
    "sla_profile": "Time-limit profile (default: the configured one, legal-aid).",
}


def _registration_options(fn: Any) -> Any:
    for name, help_text in reversed(_FLAG_FIELDS.items()):
        fn = click.option(f"--{name.replace('_', '-')}", name, default=None, help=help_text)(fn)
    fn = click.option("--received-at", default=None, help="Receipt time, YYYY-MM-DD[ HH:MM] (default now; INT-F-08).")(fn)
    fn = click.option("--event-on", default=None, help="When the events happened, YYYY-MM-DD (INT-F-08).")(fn)
    fn = click.option("--channel", type=click.Choice([c.value for c in Channel]), default=None, help="INT-CH channel (default letter).")(fn)
    fn = click.option("--complainant-type", type=click.Choice([c.value for c in ComplainantType]), default=None)(fn)
    fn = click.option("--respondent-type", type=click.Choice([c.value for c in RespondentType]), default=None)(fn)
    fn = click.option("--evidence", multiple=True, help="An item of evidence supplied (repeatable; INT-F-09).")(fn)
    fn = click.option("--anonymous", is_flag=True, default=None, help="Anonymous complaint (INT-F-20).")(fn)
    fn = click.option("--collective-count", type=int, default=None, help="Headcount of a collective complaint (INT-F-21).")(fn)
    return fn


def _load_form(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRegistrationError("--from", f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRegistrationError("--from", f"{path} is not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRegistrationError("--from", f"{path} must hold one object of registration fields")
    return data


@main.command()
@click.option("--from", "form", type=click.Path(path_type=Path, dir_okay=False), help="JSON or TOML file of registration fields.")
@_registration_options
@click.option("--json", "as_json", is_flag=True, help="Print the new dossier as JSON.")
@pass_cli
@command_errors
def new(cli: CliContext, form: Path | None, as_json: bool, **flags: Any) -> None:
    """Register a complaint as a new dossier and print its archive number (ARC-3)."""
    from records.mapping import parse_registration  # sqlalchemy: imported when a command runs, not for --help

    data = _load_form(form) if form else {}
    data.update({k: v for k, v in flags.items() if v not in (None, ())})
    tz = ZoneInfo(cli.settings.timezone)
    registration = parse_registration(data, tz, now=cli.services.clock())
    info = cli.services.gate.register(cli.identity, registration, context=cli.context, details=cli.auth)
    if as_json:
        echo_json(_dossier_json(cli, info))
    else:
        click.echo(info.archive_number)


def _dossier_json(cli: CliContext, info: DossierInfo) -> dict[str, Any]:
    from web.cli._output import to_jsonable

    out = to_jsonable(info)
    out["deadlines"] = to_jsonable(cli.services.records.deadlines(info))
    return out


@main.command()
@click.argument("number")
@click.option("--as-of", default=None, help="Evaluate deadlines on this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def show(cli: CliContext, number: str, as_of: str | None, as_json: bool) -> None:
    """Show a dossier: registration, timeline, deadlines, documents."""
    from records.mapping import parse_day

    info = cli.services.gate.dossier(cli.identity, number, context=cli.context, details=cli.auth)
    day = parse_day(as_of, "--as-of") if as_of else None
    if as_json:
        out = _dossier_json(cli, info)
        if day:
            from web.cli._output import to_jsonable

            out["deadlines"] = to_jsonable(cli.services.records.deadlines(info, day))
        out["retention"] = _retention_json(cli, info.archive_number)
        echo_json(out)
        return
    reg = info.registration
    click.echo(f"Dossier {info.archive_number}  [{info.state.value}]")
    fields = [
        ("matter", reg.matter), ("complainant", reg.complainant), ("contact", reg.complainant_contact),
        ("complainant type", reg.complainant_type), ("respondent", reg.respondent),
        ("respondent type", reg.respondent_type), ("request", reg.request),
        ("facts and reasons", reg.facts_and_reasons), ("event on", reg.event_on),
        ("received at", reg.received_at.astimezone(ZoneInfo(cli.settings.timezone)).strftime("%Y-%m-%d %H:%M")),
        ("channel", reg.channel), ("evidence", "; ".join(reg.evidence) or None),
        ("expected remedy", reg.expected_remedy), ("receiving officer", reg.receiving_officer),
        ("department", reg.department), ("category", reg.category),
        ("anonymous", "yes" if reg.anonymous else None), ("collective", reg.collective_count),
        ("referred by", reg.referring_body), ("sla profile", reg.sla_profile), ("void reason", info.void_reason),
        ("source reference", info.source_reference),  # its number in the archive it was imported from
    ]
    for label, value in fields:
        if value not in (None, ""):
            click.echo(f"  {label:18} {value}")
    click.echo("Timeline:")
    for t in info.transitions:
        click.echo(f"  {t.on}  {t.state.value:14} {t.actor}" + (f"  — {t.note}" if t.note else ""))
    for e in info.extensions:
        click.echo(f"  extension +{e.days} days approved by {e.approved_by}: {e.reason}")
    click.echo("Deadlines:")
    for c in cli.services.records.deadlines(info, day):
        due = c.due_on.isoformat() if c.due_on else "—"
        click.echo(f"  {c.clock.value:11} due {due:10}  {c.state.value}" + (f" ({c.days_late} days late)" if c.days_late else ""))
    click.echo(_retention_line(cli, info.archive_number))
    click.echo(f"Documents ({len(info.documents)}):")
    if info.documents:
        click.echo(table([[d.item_number, d.kind.value, d.filename, str(d.size), d.sha256[:12]] for d in info.documents],
                         ["item", "kind", "filename", "bytes", "sha256"]))


def _retention_json(cli: CliContext, number: str) -> dict[str, Any]:
    from web.cli._output import to_jsonable

    view = cli.services.retention.show(number)
    plan = view.plan or view.current
    return {"rule": plan.rule_id, "trigger": plan.trigger.value, "trigger_date": to_jsonable(plan.trigger_date),
            "disposal_date": to_jsonable(plan.disposal_date), "permanent": plan.permanent, "planned": view.plan is not None,
            "held": bool(view.holds), "disposition_state": view.disposition_state}


def _retention_line(cli: CliContext, number: str) -> str:
    """Rule and disposal date (RET: every dossier shows them); `dossier retention show` has the history."""
    r = _retention_json(cli, number)
    when = "permanent" if r["permanent"] else (r["disposal_date"] or f"after {r['trigger']}")
    return f"Retention: rule {r['rule']}, disposal {when}" + ("  HELD" if r["held"] else "")


@main.command("list")
@click.option("--state", type=click.Choice([s.value for s in DossierState]), default=None)
@click.option("--month", default=None, help="Receipt month YYYY-MM.")
@click.option("--overdue", "overdue", is_flag=True, help="Only dossiers with an overdue time limit (TL).")
@click.option("--as-of", default=None, help="Date for --overdue (default today).")
@click.option("--limit", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def list_(cli: CliContext, state: str | None, month: str | None, overdue: bool, as_of: str | None,
          limit: int | None, as_json: bool) -> None:
    """List dossiers, newest receipt first."""
    from records.mapping import parse_day

    day: date | None = None
    if overdue:
        day = parse_day(as_of, "--as-of") if as_of else cli.services.today(ZoneInfo(cli.settings.timezone))
    rows = cli.services.gate.list_dossiers(
        cli.identity, context=cli.context, details=cli.auth, state=DossierState(state) if state else None,
        month=month, overdue_on=day, limit=limit)
    if as_json:
        echo_json(rows)
        return
    tz = ZoneInfo(cli.settings.timezone)
    click.echo(table([
        [r.archive_number, r.state.value, r.received_at.astimezone(tz).strftime("%Y-%m-%d"), r.complainant or "(anonymous)",
         r.respondent or "", r.matter, str(r.documents), _overdue_text(r.overdue_clocks)]
        for r in rows], ["number", "state", "received", "complainant", "respondent", "matter", "docs", "overdue"]))


def _overdue_text(late: Any) -> str:
    """``acceptance +3d`` per overdue time limit: which deadline, how many days past it."""
    return ", ".join(f"{c.clock.value} +{c.days_late}d" for c in late)


@main.command()
@click.argument("number")
@click.option("--reason", required=True, help="Why it is taken back to handling (kept on the timeline).")
@pass_cli
@command_errors
def reopen(cli: CliContext, number: str, reason: str) -> None:
    """Reopen a closed, not yet sealed dossier: back to the step it was closed from."""
    info = cli.services.gate.reopen(cli.identity, number, reason=reason, context=cli.context, details=cli.auth)
    click.echo(f"{info.archive_number} {info.state.value}")


@main.command()
@click.argument("item")
@click.argument("kind", type=click.Choice([k.value for k in DocumentKind]))
@click.option("--reason", required=True, help="Why the kind is corrected (kept with the document).")
@pass_cli
@command_errors
def reclassify(cli: CliContext, item: str, kind: str, reason: str) -> None:
    """Correct the KIND of filed document ITEM; the rule that classified it is kept beside the correction."""
    doc = cli.services.gate.reclassify(cli.identity, item, DocumentKind(kind), reason=reason, context=cli.context,
                                       details=cli.auth)
    click.echo(f"{doc.item_number} {doc.kind.value} (rule {doc.kind_rule or '-'}, corrected by {doc.kind_set_by})")


@main.command()
@click.argument("number")
# Sealing and disposal are not plain steps: `dossier seal` checks completeness (ARC-2) and
# `dossier dispose` needs review and approval (RET), so neither is offered here.
@click.argument("state", type=click.Choice([s.value for s in DossierState if s not in (
    DossierState.REGISTERED, DossierState.VOID, DossierState.SEALED, DossierState.DISPOSED)]))
@click.option("--on", "on", default=None, help="Effective date YYYY-MM-DD (default today).")
@click.option("--note", default=None, help="Kept on the timeline (for not_accepted: the refusal ground, ACC-NO).")
@click.option("--override-reason", default=None,
              help="Close although required materials are missing (archivists; ARC-2): the reason is recorded.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def advance(cli: CliContext, number: str, state: str, on: str | None, note: str | None, override_reason: str | None,
            as_json: bool) -> None:
    """Move a dossier to its next lifecycle STATE (accepted, not_accepted, investigating, decided, …).

    Closing checks the dossier's required materials first (ARC-2) and names what is missing.
    """
    from records.mapping import parse_day

    info = cli.services.gate.advance(cli.identity, number, DossierState(state), on=parse_day(on, "--on") if on else None,
                                     note=note, override_reason=override_reason, context=cli.context, details=cli.auth)
    echo_json(_dossier_json(cli, info)) if as_json else click.echo(f"{info.archive_number} {info.state.value}")


@main.command()
@click.argument("number")
@click.option("--days", type=int, required=True, help="Extra calendar days (TL-03).")
@click.option("--reason", required=True, help="Reasons given to the complainant in writing.")
@click.option("--approved-by", required=True, help="The agency head who approved it.")
@pass_cli
@command_errors
def extend(cli: CliContext, number: str, days: int, reason: str, approved_by: str) -> None:
    """Record an approved extension of the 45-day conclusion period (TL-03)."""
    info = cli.services.gate.extend(cli.identity, number, days=days, reason=reason, approved_by=approved_by,
                                    context=cli.context, details=cli.auth)
    conclusion = [c for c in cli.services.records.deadlines(info) if c.clock.value == "conclusion"]
    click.echo(f"{info.archive_number} conclusion due {conclusion[0].due_on if conclusion else '—'}")


@main.command()
@click.argument("number")
@click.option("--reason", required=True)
@pass_cli
@command_errors
def withdraw(cli: CliContext, number: str, reason: str) -> None:
    """Mark a dossier void (withdrawn or registered in error); its number is never reused."""
    info = cli.services.gate.advance(cli.identity, number, DossierState.VOID, note=reason, context=cli.context,
                                     details=cli.auth)
    click.echo(f"{info.archive_number} void")
