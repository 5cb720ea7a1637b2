"""Each part needs only its own back ends (issue #17 item 3): a search server outage, for real.

The archive is configured with the session's real OpenSearch node, which :func:`outage` stops
(SIGTERM) and starts again on the same port and data. While it is down: the catalogue and vault
commands work, `search` exits 13, the API answers 503 and the search page is a translated error
page, `dossier serve` starts degraded and says so on ``/healthz`` and the dashboard. Documents
filed meanwhile become searchable after the node returns with no command run by hand: the
`dossier serve` started during the outage (its index drainer) catches up.

Opening the archive never contacts the search server: shown against a socket that listens but
is never answered.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from records.settings import Settings, load_settings
from tests.servers.opensearch import OpenSearchNode, outage
from tests.web.conftest import sign_in_as
from web import create_app
from web.bootstrap import build_services, init_archive
from web.cli import main

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with _NO_PROXY.open(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


class Archive:
    """An archive on the server index, driven through the `dossier` command line."""

    def __init__(self, data_dir: Path, config: Path) -> None:
        self.data_dir, self.config = data_dir, config

    @property
    def args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir), "--config", str(self.config)]

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, [*self.args, *args], input=input)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    def settings(self) -> Settings:
        return load_settings(data_dir=self.data_dir, config=self.config)

    def ingested(self, number: str, path: Path) -> list[str]:
        """File PATH into NUMBER through ingest (`add` keeps bytes only; ingest extracts the text)."""
        lines = self.ok("ingest", "--dossier", number, "--json", str(path)).stdout.splitlines()
        return [json.loads(line)["item_number"] for line in lines if line.startswith("{")]

    def found(self, word: str) -> set[str]:
        return {h["item_number"] for h in json.loads(self.ok("search", word, "--json").stdout)["hits"]}


@pytest.fixture
def archive(make_settings: Callable[..., Settings], tmp_path: Path, opensearch: OpenSearchNode) -> Archive:
    config = tmp_path / "dossier.toml"
    config.write_text(f'[search]\nurl = "{opensearch.url}"\nindex_prefix = "{opensearch.new_index_name("outage")}"\n'
                      'timeout_seconds = 5\n')
    settings = make_settings(config=config)  # clears the developer's DOSSIER_* variables
    archive = Archive(settings.data_dir, config)
    archive.ok("init")
    return archive


@pytest.mark.opensearch
@pytest.mark.slow
def test_an_opensearch_outage_stops_only_searching_and_filed_documents_catch_up_by_themselves(
        archive: Archive, opensearch: OpenSearchNode, tmp_path: Path) -> None:
    number = archive.ok("new", "--complainant", "张三", "--respondent", "某律师事务所", "--matter", "拖延办理").output.strip()
    before, during = tmp_path / "before.txt", tmp_path / "during.txt"
    before.write_text("投诉书 alphaword 承办律师三个月未联系", encoding="utf-8")
    during.write_text("补充材料 bravoword 律师未退还费用", encoding="utf-8")
    (first,) = archive.ingested(number, before)
    assert archive.found("alphaword") == {first}
    archive.ok("user", "add", "clerk", "--role", "archivist", "--password-stdin", input="clerk-password-123\n")
    token = archive.ok("token", "create", "clerk", "--json")
    api_token = json.loads(token.stdout)["token"]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server: subprocess.Popen[bytes] | None = None
    try:
        with outage(opensearch):
            # ---- the catalogue and the vault need no search server
            timings: dict[str, float] = {}
            for name, args in (("show", ("show", number)), ("list", ("list",)),
                               ("get", ("get", first, "-o", str(tmp_path / "got.txt")))):
                started = time.monotonic()
                archive.ok(*args)
                timings[name] = time.monotonic() - started
            assert (tmp_path / "got.txt").read_bytes() == before.read_bytes()
            started = time.monotonic()
            attachment = tmp_path / "attachment.bin"
            attachment.write_bytes(b"\x00evidence bytes")
            (added,) = [d["item_number"] for d in json.loads(archive.ok("add", number, str(attachment), "--json").stdout)]
            timings["add"] = time.monotonic() - started
            started = time.monotonic()
            (second,) = archive.ingested(number, during)   # extracted, so its words are searchable later
            timings["ingest"] = time.monotonic() - started
            print("commands while OpenSearch is down (s):", {k: round(v, 2) for k, v in timings.items()})
            shown = archive.ok("show", number).output
            assert second in shown and added in shown

            # ---- searching says so: exit 13, a clear message without the server's address
            searched = archive.run("search", "bravoword")
            assert searched.exit_code == 13, searched.output
            assert "unavailable" in searched.output
            # verify checks the vault in full and reports the index as unreachable (exit 13)
            verified = archive.run("verify", "--json")
            assert verified.exit_code == 13, verified.output
            report = json.loads(verified.stdout)
            assert report["checked"] >= 2 and report["problems"] == [] and report["index"]["state"] == "unavailable"
            assert report["index_backlog"]["count"] >= 1

            # ---- `dossier serve` starts degraded and says so
            env = {**os.environ, "DOSSIER_ADMIN_PASSWORD": "first-admin-password"}
            server = subprocess.Popen([sys.executable, "-m", "web.cli", *archive.args, "serve", "--port", str(port),
                                       "--workers", "1", "--intake-workers", "0"],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            deadline, health = time.monotonic() + 60, None
            while health is None and time.monotonic() < deadline:
                try:
                    health = _get(f"{base}/healthz")
                except OSError:
                    assert server.poll() is None, server.communicate()[0].decode()[-3000:]
                    time.sleep(0.3)
            assert health is not None, "serve never answered /healthz"
            status, body = health
            assert status == 200 and body["status"] == "degraded", body
            assert body["backends"]["catalogue"]["state"] == "ok" and body["backends"]["store"]["state"] == "ok"
            assert body["backends"]["keys"]["state"] == "ok"
            search_health = body["backends"]["search"]
            assert search_health["state"] == "unavailable" and search_health["backlog"] >= 1 and search_health["error"]
            text = json.dumps(body, ensure_ascii=False)
            assert opensearch.url not in text and str(opensearch.port) not in text and number not in text

            status, answer = _get(f"{base}/api/v1/search?q=bravoword", api_token)
            assert status == 503 and answer["error"]["code"] == "search_unavailable"
            status, _listed = _get(f"{base}/api/v1/dossiers/{number}", api_token)
            assert status == 200  # the rest of the API works

            # ---- the pages: a translated error page for search, a translated banner on the dashboard
            app = create_app(archive.settings())
            try:
                client = sign_in_as(app.test_client(), "clerk")
                page = client.get("/search?q=bravoword")
                html = page.get_data(as_text=True)
                assert page.status_code == 503 and "检索服务暂时不可用" in html and opensearch.url not in html
                dashboard = client.get("/").get_data(as_text=True)
                assert 'data-backend="search"' in dashboard and "系统降级运行" in dashboard
                assert "全文检索暂不可用" in dashboard
            finally:
                app.extensions["dossier"].close()
            outage_ended = time.monotonic()

        # ---- OpenSearch is back: serve's drainer catches up; nobody runs a command that drains
        deadline, body = time.monotonic() + 90, {}
        while time.monotonic() < deadline:
            status, body = _get(f"{base}/healthz")
            if body["backends"]["search"]["state"] == "ok" and body["backends"]["search"]["backlog"] == 0:
                break
            time.sleep(1)
        caught_up = time.monotonic() - outage_ended
        print(f"searchable again {caught_up:.1f} s after OpenSearch was restarted (node start included)")
        assert status == 200 and body["status"] == "ok", body
        assert archive.found("bravoword") == {second}
        status, answer = _get(f"{base}/api/v1/search?q=bravoword", api_token)
        assert status == 200 and [h["item_number"] for h in answer["hits"]] == [second]
    finally:
        if server is not None:
            server.terminate()
            out = server.communicate(timeout=60)[0].decode()
            assert "search unavailable" in out  # serve said at start that it runs degraded


def test_opening_the_archive_never_contacts_the_search_server(make_settings: Callable[..., Settings],
                                                               tmp_path: Path) -> None:
    """A server that accepts nothing (a socket that listens, never answered): build_services, show and
    list run without a single connection to it; search is what finds it unusable."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        settings = make_settings(search={"url": url, "timeout_seconds": 1})
        init_archive(settings)
        services = build_services(settings)
        try:
            assert services.search.backend == "server"   # no flavour asked of the server yet
        finally:
            services.close()
        runner = CliRunner()
        for args in (["new", "--complainant", "张三", "--matter", "拖延"], ["list"]):
            result = runner.invoke(main, ["--data-dir", str(settings.data_dir), *args],
                                   env={"DOSSIER_SEARCH__URL": url, "DOSSIER_SEARCH__TIMEOUT_SECONDS": "1"})
            assert result.exit_code == 0, result.output
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
        searched = runner.invoke(main, ["--data-dir", str(settings.data_dir), "search", "拖延"],
                                 env={"DOSSIER_SEARCH__URL": url, "DOSSIER_SEARCH__TIMEOUT_SECONDS": "1"})
        assert searched.exit_code == 13, searched.output
        conn, _addr = listener.accept()  # searching is what contacted it
        conn.close()
