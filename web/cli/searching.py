"""`dossier search` and `dossier reindex`: finding past complaints, rebuilding the index."""

from __future__ import annotations

import json

import click

from search.model import SortOrder
from web.cli._output import Progress, table
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--sort", type=click.Choice([s.value for s in SortOrder]), default=SortOrder.RELEVANCE.value, show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Hits (item, dossier, score, snippet), total and facets as JSON.")
@pass_cli
@command_errors
def search(cli: CliContext, query: tuple[str, ...], sort: str, page: int, page_size: int, as_json: bool) -> None:
    """Full-text search of filed documents, in Chinese or English.

    \b
    Words (any order, best first), "quoted phrases", AND / OR / NOT, -word, and filters:
    number: kind: channel: category: respondent: complainant: state: received:2026-01-01..2026-06-30
    """
    # Scoped by the policy like any caller: the console sees the whole archive, an account what it may.
    result = cli.services.gate.search(cli.identity, " ".join(query), context=cli.context, details=cli.auth,
                                      sort=SortOrder(sort), page=page, page_size=page_size)
    if as_json:
        click.echo(json.dumps({
            "total": result.total, "page": page, "pages": result.pages, "facets": result.facets,
            "hits": [{"item_number": h.item_number, "archive_number": h.archive_number, "score": round(h.score, 4),
                      "kind": h.kind, "title": h.title, "snippet": h.snippet.marked()} for h in result.hits],
        }, ensure_ascii=False, indent=2))
        return
    click.echo(table([[h.item_number, h.kind, str(h.received_on), h.title, h.snippet.marked()] for h in result.hits],
                     ["item", "kind", "received", "matter", "snippet"]))
    click.echo(f"{result.total} hits, page {page} of {result.pages}", err=True)
    for facet, counts in result.facets.items():
        if counts:
            click.echo(f"  {facet}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:8]), err=True)


@main.command()
@pass_cli
@command_errors
def reindex(cli: CliContext) -> None:
    """Rebuild the search index from the catalogue and the vault, then swap it in atomically."""
    services = cli.services
    documents = services.gate.reindex_source(cli.identity, context=cli.context, details=cli.auth)
    total = sum(1 for _ in services.records.live_document_ids(cli.actor))
    with Progress("reindexing") as progress:
        count = services.search.rebuild(documents,
                                        progress=lambda n: progress(n, total))
    click.echo(f"{count} documents indexed ({services.search.backend})")
