"""Uploads people can follow (issue #11 item 5).

The status rows say what each file became (kind, outcome, OCR confidence); a file filed without
usable text is not shown as a plain success; a junk upload can be withdrawn from its status row or
the document page (one log entry, the reason shown, the number kept); and uploads still waiting
for the worker are listed on the dossier page. No worker runs unless the test runs one.
"""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services

LETTER = "投诉信：援助律师多次缺席调解，要求更换律师。".encode()
JUNK = bytes(range(256)) * 8   # no known format: filed (the original is kept), but unsupported


def _decisions(log: LogCounter) -> list[tuple[str, str]]:
    return [(str(e.event.action), str(e.event.outcome)) for e in log.new_entries() if e.event.action != "sign_in"]


def _upload(client: FlaskClient, world: World, *files: tuple[bytes, str]) -> tuple[str, str]:
    """Upload as handler_a through the page; returns (the page's HTML, its status URL)."""
    sign_in_as(client, "handler_a")
    token = csrf_token(client, f"/dossiers/{world.dossier}/upload")
    resp = client.post(f"/dossiers/{world.dossier}/upload", data={"csrf_token": token, "files": [
        (io.BytesIO(data), name) for data, name in files]}, content_type="multipart/form-data")
    assert resp.status_code == 202
    html = resp.get_data(as_text=True)
    m = re.search(r'data-status-url="([^"]+)"', html)
    assert m
    return html, m.group(1).replace("&amp;", "&")


def test_status_rows_carry_kind_outcome_and_ocr_confidence(client: FlaskClient, services: Services,
                                                           world: World) -> None:
    """GIVEN a letter uploaded and filed WHEN the page polls its status THEN the row names the document's kind
    and outcome, translated, and its OCR confidence (none for a text file); the no-script page shows the same."""
    _html, url = _upload(client, world, (LETTER, "投诉信.txt"))
    services.intake.run_pending()
    row = client.get(url).get_json()["jobs"][0]
    doc = services.records.get_document("t", row["item_number"])
    assert row["kind"] == doc.kind.value and row["kind_label"] and row["kind_label"] != doc.kind.value
    assert row["outcome"] == "ok" and row["outcome_label"] and row["outcome_label"] != "ok"
    assert "ocr_confidence" in row and row["ocr_confidence"] is None
    assert not row["warning"] and row["state_class"] == "job-state job-filed"
    page = client.get(url.replace("/upload/status", "/upload")).get_data(as_text=True)
    assert f'<td class="col-kind">{row["kind_label"]}</td>' in page


def test_an_unsupported_file_is_not_shown_as_plain_success(client: FlaskClient, services: Services,
                                                           world: World) -> None:
    """GIVEN a file of no known format WHEN it is filed THEN its state says filed *with* the outcome and no
    text, in the warning style — never the green "filed" beside a red outcome."""
    _html, url = _upload(client, world, (JUNK, "scan.bin"))
    services.intake.run_pending()
    row = client.get(url).get_json()["jobs"][0]
    assert row["state"] == "filed" and row["outcome"] not in ("ok", "ok_with_warnings"), row
    assert row["warning"] and "job-filed-warn" in row["state_class"]
    assert row["outcome_label"] in row["state_label"] and row["state_label"] != row["outcome_label"]
    page = client.get(url.replace("/upload/status", "/upload")).get_data(as_text=True)
    assert 'class="job-state job-filed-warn"' in page and 'class="job-state job-filed"' not in page


def test_a_junk_upload_is_withdrawn_from_its_status_row(client: FlaskClient, services: Services, world: World,
                                                        log: LogCounter) -> None:
    """GIVEN a junk upload filed WHEN the handler withdraws it from the status row with a reason THEN one log entry,
    back on the status page which shows it withdrawn; the dossier page strikes it through with the reason and the
    item keeps its number (search: tests/unit/records/test_withdraw.py). Without a reason, nothing."""
    _html, url = _upload(client, world, (JUNK, "blank.bin"))
    services.intake.run_pending()
    row = client.get(url).get_json()["jobs"][0]
    item, withdraw = row["item_number"], row["withdraw_url"]
    assert withdraw == f"/dossiers/{world.dossier}/withdraw-item"
    page = client.get(url.replace("/upload/status", "/upload")).get_data(as_text=True)
    assert f'action="{withdraw}"' in page and f'name="item" value="{item}"' in page
    assert 'name="job" value="' + row["job"] + '"' in page  # back to this status page
    token = csrf_token(client, f"/dossiers/{world.dossier}")
    log.new_entries()

    refused = client.post(withdraw, data={"csrf_token": token, "item": item, "reason": " ", "job": row["job"]})
    assert refused.status_code == 303 and services.records.get_document("t", item).withdrawn_at is None
    log.new_entries()
    resp = client.post(withdraw, data={"csrf_token": token, "item": item, "reason": "空白页，误传", "job": row["job"]})

    assert resp.status_code == 303 and f"/dossiers/{world.dossier}/upload?job={row['job']}" in resp.headers["Location"]
    assert _decisions(log) == [("file_document", "allowed")]
    after = client.get(url).get_json()["jobs"][0]
    assert after["withdrawn"] and "空白页，误传" in after["withdrawn_label"] and after["withdraw_url"] is None
    dossier = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert '<tr class="withdrawn">' in dossier and "<s>blank.bin</s>" in dossier and "空白页，误传" in dossier
    assert f">{item}</a>" in dossier
    document = client.get(f"/documents/{item}").get_data(as_text=True)
    assert "空白页，误传" in document and 'class="inline withdraw"' not in document


def test_the_document_page_offers_withdrawal_only_to_who_may_file(client: FlaskClient, world: World,
                                                                  log: LogCounter) -> None:
    """A handler of the dossier is offered the withdraw form on the document page; a regulator is not, and a
    regulator's POST is refused and logged once, leaving the document as it was."""
    html = sign_in_as(client, "handler_a").get(f"/documents/{world.item}").get_data(as_text=True)
    form = f"/dossiers/{world.dossier}/withdraw-item"
    assert f'action="{form}"' in html and f'name="item" value="{world.item}"' in html
    html = sign_in_as(client, "regulator").get(f"/documents/{world.item}").get_data(as_text=True)
    assert "withdraw-item" not in html
    token = csrf_token(client, f"/documents/{world.item}")
    log.new_entries()
    resp = client.post(form, data={"csrf_token": token, "item": world.item, "reason": "x"})
    assert resp.status_code in (403, 404)
    assert _decisions(log) == [("file_document", "refused")]


def test_uploads_still_processing_are_listed_on_the_dossier_page(client: FlaskClient, services: Services,
                                                                 world: World) -> None:
    """GIVEN an upload queued while no worker runs WHEN the dossier page is opened THEN an "In progress" list
    names the file and its state; once the worker has filed it, the list is gone and the document is listed."""
    _upload(client, world, (LETTER, "补充材料.txt"))
    html = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    pending = re.search(r'<ul class="pending-uploads">(.*?)</ul>', html, re.S)
    assert pending and "补充材料.txt" in pending.group(1) and "job-queued" in pending.group(1)
    services.intake.run_pending()
    html = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert 'class="pending-uploads"' not in html and "补充材料.txt" in html
