"""records.redact: the one rule that keeps credentials in URLs out of what is shown (issue #17 (5))."""

from __future__ import annotations

import pytest

from records.redact import masked_setting, masked_url, masked_urls


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://dossier:pg-secret@db:5432/dossier", "postgresql+psycopg://dossier:***@db:5432/dossier"),
    ("https://admin:se@rch/pw@search:9200", "https://admin:***@search:9200"),      # unencoded @ and / in it
    ("https://admin:p?w@search:9200/x", "https://admin:***@search:9200/x"),        # and a ?
    ("http://h:8200/v1?token=bao-token&mount=transit#top", "http://h:8200/v1?token=***&mount=transit#top"),
    ("postgresql://u@db/x?sslpassword=a&password=b&sslmode=require",
     "postgresql://u@db/x?sslpassword=***&password=***&sslmode=require"),
    ("http://s3:8333/?X-Amz-Credential=AK&X-Amz-Signature=ff&api_key=k&client_secret=s",
     "http://s3:8333/?X-Amz-Credential=***&X-Amz-Signature=***&api_key=***&client_secret=***"),
    ("sqlite:////srv/dossier/catalogue.sqlite3", "sqlite:////srv/dossier/catalogue.sqlite3"),
    ("http://127.0.0.1:8333", "http://127.0.0.1:8333"),
    ("not a url", "not a url"),
])
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_urls_inside_text_and_lists_are_masked() -> None:
    text = 'cannot read "https://a:pw1@one:9200,https://b:pw2@two:9200/?token=t3" (refused)'
    shown = masked_urls(text)
    assert not any(s in shown for s in ("pw1", "pw2", "t3"))
    assert shown == 'cannot read "https://a:***@one:9200,https://b:***@two:9200/?token=***" (refused)'


def test_a_settings_dump_is_masked_at_any_depth() -> None:
    dump = {"database": {"url": "postgresql://u:pw@db/x", "echo": False},
            "search": {"urls": ["https://e:pw@es:9200"], "replicas": 0}, "n": None}
    assert masked_setting(dump) == {"database": {"url": "postgresql://u:***@db/x", "echo": False},
                                    "search": {"urls": ["https://e:***@es:9200"], "replicas": 0}, "n": None}
