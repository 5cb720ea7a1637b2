"""`dossier seal | amend | retention … | hold … | dispose …`: sealing, schedules, holds, disposition.

Scripting interface (kept stable): ``dossier seal NUMBER``; ``dossier retention due [--as-of DATE]
--json``; ``dossier hold add|lift NUMBER --reason TEXT``; ``dossier dispose review|approve|run``.
``--as NAME`` names who acts: for ``dispose review`` / ``approve`` it must be an enabled archivist /
manager account; elsewhere a registered account acts under its role, any other name as the console.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from records.access.identity import GrantFilter, Identity
from records.model import DocumentKind
from web.cli._output import echo_json, table, to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # annotations only; the retention service (sqlalchemy, …) loads with the services
    from retention.model import Disposition, HoldFilter
    from retention.service import RetentionService


def _svc(cli: CliContext) -> RetentionService:
    return cli.services.retention


def _who(cli: CliContext) -> Identity:
    """The authenticated caller: an account after --as NAME signed in, else the console operator."""
    return cli.identity


def _day(text: str | None, option: str) -> Any:
    from records.mapping import parse_day  # sqlalchemy: loaded when a command runs, not for --help

    return parse_day(text, option) if text else None


# ---------------------------------------------------------------------- sealing
@main.command()
@click.argument("number")
@click.option("--on", default=None, help="Effective date YYYY-MM-DD (default today).")
@click.option("--check", is_flag=True, help="Only list what is missing; seal nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def seal(cli: CliContext, number: str, on: str | None, check: bool, as_json: bool) -> None:
    """Seal closed dossier NUMBER (ARC-1-05) once its required materials are present (ARC-2)."""
    svc = _svc(cli)
    if check:
        missing = svc.missing_for_seal(number)
        echo_json({"number": number, "missing": missing}) if as_json else click.echo(
            "\n".join(f"missing: {m}" for m in missing) or f"{number} can be sealed")
        if missing:  # a script asks "can it be sealed?": the answer is the exit code (5, as seal refusing)
            raise click.exceptions.Exit(5)
        return
    info, plan = svc.seal(_who(cli), number, on=_day(on, "--on"))
    if as_json:
        echo_json({"number": info.archive_number, "state": info.state, "plan": plan})
    else:
        click.echo(f"{info.archive_number} sealed; rule {plan.rule_id}, disposal {_date(plan)}")


@main.command()
@click.argument("number")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--kind", type=click.Choice([k.value for k in DocumentKind]), default=DocumentKind.OTHER.value)
@click.option("--reason", required=True, help="Why material is added after sealing (kept on the timeline).")
@pass_cli
@command_errors
def amend(cli: CliContext, number: str, file: Path, kind: str, reason: str) -> None:
    """Add FILE to sealed dossier NUMBER: archivists only, with a recorded reason (ARC-1-05)."""
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    doc = _svc(cli).amend(_who(cli), number, file, kind=DocumentKind(kind), reason=reason, media_type=media_type)
    click.echo(f"{doc.item_number}  {file}")


def _date(plan: Any) -> str:
    if plan.permanent:
        return "permanent"
    return plan.disposal_date.isoformat() if plan.disposal_date else f"— (waiting for {plan.trigger})"


# ---------------------------------------------------------------------- schedules
@main.group()
def retention() -> None:
    """Retention schedules (RET): the due queue, a dossier's plan, re-planning."""


@retention.command("due")
@click.option("--as-of", default=None, help="Due by this date (YYYY-MM-DD; default today).")
@click.option("--include-held", is_flag=True, help="Also list held dossiers (marked held); they are never disposed.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def retention_due(cli: CliContext, as_of: str | None, include_held: bool, as_json: bool) -> None:
    """Sealed dossiers whose disposal date has come, oldest first; held ones are left out."""
    items = _svc(cli).due_queue(_who(cli), _day(as_of, "--as-of"), include_held=include_held, context=cli.context, details=cli.auth)
    if as_json:
        echo_json([{"number": i.archive_number, "rule": i.rule, "trigger": i.trigger, "trigger_date": i.trigger_date,
                    "disposal_date": i.disposal_date, "held": i.held, "disposition_state": i.disposition_state,
                    "action": i.action} for i in items])
        return
    click.echo(table([[i.archive_number, i.rule, f"{i.trigger} {i.trigger_date}", str(i.disposal_date), i.action,
                       "HELD" if i.held else "", i.disposition_state or ""] for i in items],
                     ["number", "rule", "trigger", "disposal", "action", "hold", "disposition"]))


@retention.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def retention_show(cli: CliContext, number: str, as_json: bool) -> None:
    """A dossier's rule and disposal date, holds and plan history."""
    view = _svc(cli).plan_view(_who(cli), number, context=cli.context, details=cli.auth)
    if as_json:
        echo_json(view)
        return
    plan = view.plan or view.current
    click.echo(f"Dossier {view.archive_number}: rule {plan.rule_id}, trigger {plan.trigger} {plan.trigger_date or '—'}, "
               f"disposal {_date(plan)} ({plan.action})" + ("" if view.plan else "  [not planned yet]"))
    if view.plan and view.plan != view.current:
        click.echo(f"  the schedule in effect now says rule {view.current.rule_id}, disposal {_date(view.current)}; "
                   "run `dossier retention plan --reason …`")
    for h in view.holds:
        click.echo(f"  HELD by {h.hold_id} ({h.placed_by}, {h.placed_at:%Y-%m-%d}): {h.reason}")
    if view.disposition_state:
        click.echo(f"  in a disposition: {view.disposition_state}")
    for c in view.changes:
        click.echo(f"  {c.at:%Y-%m-%d} {c.actor}: {c.old_rule or '—'} {c.old_date or ''} → {c.new_rule} "
                   f"{c.new_date or ''}  ({c.reason})")


@retention.command("plan")
@click.argument("numbers", nargs=-1)
@click.option("--reason", required=True, help="Why the plans are recomputed (recorded with every change).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def retention_plan(cli: CliContext, numbers: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Re-plan every dossier (or NUMBERS) under the schedule in effect; print what changed."""
    changes = _svc(cli).replan(_who(cli), reason=reason, numbers=list(numbers) or None, context=cli.context, details=cli.auth)
    if as_json:
        echo_json(changes)
        return
    for c in changes:
        click.echo(f"{c.archive_number}  {c.old_rule or '—'} {c.old_date or ''} → {c.new_rule} {c.new_date or ''}")
    click.echo(f"{len(changes)} plan(s) changed")


@retention.command("rules")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def retention_rules(cli: CliContext, as_json: bool) -> None:
    """The retention schedule in effect (first matching rule wins)."""
    rules = _svc(cli).schedule(_who(cli), context=cli.context, details=cli.auth)
    if as_json:
        echo_json(rules)
        return
    for r in rules:
        period = "permanent" if r.permanent else f"{r.years}y{f' {r.months}m' if r.months else ''}"
        click.echo(f"{r.rule_id:20} {period:10} from {r.trigger:8} {r.action:8} {r.description}")


# ---------------------------------------------------------------------- legal holds
@main.group()
def hold() -> None:
    """Legal holds: a held dossier is never disposed of."""


@hold.command("add")
@click.argument("number", required=False)
@click.option("--filter", "filter_text", default=None,
              help="Hold every dossier matching, e.g. 'respondent:某律所 category:收费 received:2026-01-01..2026-06-30'.")
@click.option("--reason", required=True)
@pass_cli
@command_errors
def hold_add(cli: CliContext, number: str | None, filter_text: str | None, reason: str) -> None:
    """Place a hold on dossier NUMBER or on a saved --filter; print the hold id."""
    from retention.model import HoldFilter

    f = None
    if filter_text is not None:
        g = GrantFilter.parse(filter_text)
        f = HoldFilter(g.respondents, g.categories, g.received_from, g.received_until)
    h = _svc(cli).place_hold(_who(cli), reason=reason, number=number, filter=f, details=cli.auth)
    click.echo(h.hold_id)


@hold.command("lift")
@click.argument("ref", metavar="NUMBER|HOLD_ID")
@click.option("--reason", required=True)
@pass_cli
@command_errors
def hold_lift(cli: CliContext, ref: str, reason: str) -> None:
    """Lift the holds placed on dossier NUMBER, or the hold HOLD_ID."""
    for h in _svc(cli).lift_hold(_who(cli), ref, reason=reason, details=cli.auth):
        click.echo(f"{h.hold_id} lifted")


@hold.command("list")
@click.option("--all", "include_lifted", is_flag=True, help="Include lifted holds.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def hold_list(cli: CliContext, include_lifted: bool, as_json: bool) -> None:
    holds = _svc(cli).hold_list(_who(cli), include_lifted=include_lifted, context=cli.context, details=cli.auth)
    if as_json:
        echo_json(holds)
        return
    click.echo(table([[h.hold_id, h.archive_number or f"filter {_filter_text(h.filter)}", h.placed_by,
                       f"{h.placed_at:%Y-%m-%d}", "lifted" if h.lifted_at else "active", h.reason] for h in holds],
                     ["hold", "on", "by", "placed", "", "reason"]))


def _filter_text(f: HoldFilter | None) -> str:
    from retention.model import HoldFilter

    f = f or HoldFilter()
    return GrantFilter(f.respondents, f.categories, f.received_from, f.received_until).render()


# ---------------------------------------------------------------------- disposition
@main.group()
def dispose() -> None:
    """Disposition: review (archivist) → approve (another person, a manager) → run."""


@dispose.command("review")
@click.argument("numbers", nargs=-1)
@click.option("--as-of", default=None, help="Take what is due by this date (default today).")
@click.option("--action", type=click.Choice(["destroy", "transfer"]), default="destroy", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def dispose_review(cli: CliContext, numbers: tuple[str, ...], as_of: str | None, action: str, as_json: bool) -> None:
    """As archivist --as NAME, propose the due dossiers (or NUMBERS) for ACTION; print the disposition id."""
    d = _svc(cli).review(cli.actor, as_of=_day(as_of, "--as-of"), numbers=list(numbers) or None,
                         action=action)  # type: ignore[arg-type]
    echo_json(_dj(d)) if as_json else click.echo(f"{d.disposition_id}  {d.action} {len(d.numbers)} dossier(s): {' '.join(d.numbers)}")


@dispose.command("approve")
@click.argument("disposition_id")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def dispose_approve(cli: CliContext, disposition_id: str, as_json: bool) -> None:
    """As manager --as NAME (not the reviewer), approve DISPOSITION_ID."""
    d = _svc(cli).approve(cli.actor, disposition_id)
    echo_json(_dj(d)) if as_json else click.echo(f"{d.disposition_id} approved")


@dispose.command("run")
@click.argument("disposition_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def dispose_run(cli: CliContext, disposition_id: str | None, as_json: bool) -> None:
    """Execute DISPOSITION_ID, or every approved or interrupted disposition; print each certificate."""
    done = _svc(cli).run(_who(cli), disposition_id=disposition_id)
    if as_json:
        echo_json([_dj(d) for d in done])
        return
    for d in done:
        cert = f"certificate {d.certificate.json_path} sha256 {d.certificate.sha256}" if d.certificate else "no certificate"
        click.echo(f"{d.disposition_id} {d.state}: {d.action} {len(d.numbers)} dossier(s); {cert}")
        for number, why in sorted(d.excluded.items()):
            click.echo(f"  excluded {number}: {why}")


@dispose.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def dispose_list(cli: CliContext, as_json: bool) -> None:
    items = _svc(cli).disposition_list(_who(cli), context=cli.context, details=cli.auth)
    if as_json:
        echo_json([_dj(d) for d in items])
        return
    click.echo(table([[d.disposition_id, str(d.state), d.action, str(len(d.numbers)),
                       ", ".join(f"{a.step}:{a.actor}" for a in d.approvals)] for d in items],
                     ["disposition", "state", "action", "dossiers", "signed"]))


def _dj(d: Disposition) -> dict[str, Any]:
    """A disposition for --json (certificate paths as strings)."""
    out: dict[str, Any] = to_jsonable(d)
    if d.certificate is not None:
        out["certificate"] = {"json_path": str(d.certificate.json_path), "pdf_path": str(d.certificate.pdf_path),
                              "sha256": d.certificate.sha256}
    return out


__all__ = ["amend", "dispose", "hold", "retention", "seal"]
