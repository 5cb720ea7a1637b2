"""The search page's helpers: translated query errors, hits grouped by dossier, filter chips, saved searches (#11 item 4).

The search itself stays in :func:`web.ui.search` and passes the gate (SEARCH, logged once).
Saved searches are the signed-in user's own data (:mod:`search.saved`): saving, listing and
deleting them read no dossier, so they take no access decision; running one is a search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from search.errors import InvalidQueryError
from search.model import SearchHit, SortOrder
from search.query import FilterField, active_filters
from search.saved import SavedSearches
from web.auth import identity, services
from web.ui import bp


_KNOWN_FIELDS = "被投诉人 投诉人 类别 渠道 类型 状态 收件日期 办结日期 部门 卷号; " + " ".join(f.value for f in FilterField)


# What the parser says (search.query / search.plan), as the person reads it. Matched on the
# problem's wording so the query language stays pure and English for the CLI and the API.
def query_error_message(exc: InvalidQueryError) -> str:
    """The problem in the page's language, with where it is."""
    p = exc.problem
    rules: list[tuple[str, Any]] = [
        (r"a quotation mark is not closed", lambda m: _("A quotation mark is not closed.")),
        (r"unknown field '([^']*)'", lambda m: _("Unknown field %(name)s; known fields: %(fields)s.",
                                                 name=m.group(1), fields=_KNOWN_FIELDS)),
        (r"unknown (\w+) '([^']*)'", lambda m: _("%(value)s is not a known value of %(field)s.",
                                                 value=m.group(2), field=m.group(1))),
        (r"(\w+): needs a value", lambda m: _("%(field)s: needs a value after the colon.", field=m.group(1))),
        (r"'([^']*)' is not (a|a valid) date", lambda m: _("%(value)s is not a date; write YYYY-MM-DD, YYYY-MM or YYYY.",
                                                           value=m.group(1))),
        (r"date range", lambda m: _("Write a date range as received:2026-01-01..2026-03-31.")),
        (r"nests more than", lambda m: _("The search nests too deeply; simplify it.")),  # names parentheses too
        (r"parenthes", lambda m: _("The parentheses do not match.")),
        (r"needs something (after|before) it", lambda m: _("AND, OR and NOT need a word on each side.")),
        (r"combined with words only by AND", lambda m: _("A field filter can be combined with words only by AND.")),
        (r"NOT \(or -\) must exclude", lambda m: _("NOT (or -) must stand beside a word to exclude from.")),
        (r"prefix works on Latin", lambda m: _("A * prefix works on Latin letters and digits only.")),
        (r"only the first", lambda m: _("Only the first hits can be paged through; narrow the search.")),
    ]
    for pattern, message in rules:
        m = re.search(pattern, p)
        if m:
            text = str(message(m))
            break
    else:
        text = _("The search could not be read.")
    if exc.position is not None:
        text += " " + _("(at character %(n)s)", n=exc.position + 1)
    return text


@dataclass(slots=True)
class HitGroup:
    """The hits of one dossier on this page, under the dossier's number and matter."""

    archive_number: str
    matter: str
    hits: list[SearchHit] = field(default_factory=list)


def group_hits(hits: Sequence[SearchHit]) -> list[HitGroup]:
    """Hits grouped by dossier; groups in the order of their best hit (the page's order is the ranking)."""
    groups: dict[str, HitGroup] = {}
    for hit in hits:
        group = groups.get(hit.dossier_id)
        if group is None:
            group = groups[hit.dossier_id] = HitGroup(hit.archive_number, hit.matter)
        group.hits.append(hit)
    return list(groups.values())


def chips(q: str, sort: str) -> list[tuple[str, str]]:
    """(clause as typed, link to the same search without it) for every filter on the whole query."""
    return [(f.text, url_for("ui.search", q=f.removed_from(q), sort=sort)) for f in active_filters(q)]


def with_date_range(q: str, start: str, end: str) -> str:
    """The query with ``received:FROM..TO`` added from the date picker (either side may be open)."""
    start, end = start.strip(), end.strip()
    if not start and not end:
        return q
    return f"{q} received:{start}..{end}".strip()


def saved_searches() -> SavedSearches:
    return services().saved_searches


@bp.route("/search/saved", methods=["POST"])
def save_search() -> Response:
    """Save the search on the page under a name, for the signed-in user only."""
    q = request.form.get("q", "").strip()
    sort = request.form.get("sort", SortOrder.RELEVANCE)
    saved_searches().save(identity().name, request.form.get("name", ""), q,
                          SortOrder(sort) if sort in SortOrder.__members__.values() else SortOrder.RELEVANCE)
    flash(_("Search saved."), "ok")
    return redirect(url_for("ui.search", q=q, sort=sort), code=303)


@bp.route("/search/saved/<saved_id>/delete", methods=["POST"])
def delete_saved_search(saved_id: str) -> Response:
    """Delete one of the signed-in user's saved searches (another user's is not found)."""
    saved_searches().delete(identity().name, saved_id)
    flash(_("Saved search deleted."), "ok")
    return redirect(url_for("ui.search"), code=303)
