"""Credentials out of what is shown: URLs in settings, messages and logs (issue #17 (5)).

Settings hold secrets in two forms. Fields typed ``SecretStr`` (the S3 secret key, the OpenBao
token, the IMAP and search passwords) mask themselves. URLs do not: an operator may write
``postgresql+psycopg://dossier:pw@db/dossier``, ``https://admin:pw@search:9200`` or
``http://key:secret@s3:8333`` and the whole string is a plain ``str``. :func:`masked_url` is the
one place that knows where a URL carries a credential; everything that prints a setting or a
message that may quote one (``config show``, ``init``, command errors) goes through it.

Masked: the password of the userinfo (``user:***@host``; the user name stays, it is what an
operator checks), and the value of every query parameter whose name says it is a credential
(``password=``, ``token=``, ``secret=``, ``key=``, ``X-Amz-Signature=`` …). Nothing is decoded or
re-encoded, so what is left reads exactly as it was written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "masked_setting", "masked_url", "masked_urls"]

MASK = "***"

# Parameter names that carry credentials, matched anywhere in the name (sslpassword, access_token,
# X-Amz-Credential, api_key, sig…). "key" also hides harmless ones (a partition key): a settings
# printout losing one value is cheap, a leaked secret is not.
_SECRET_NAME = re.compile(r"pass|pwd|token|secret|key|credential|signature|sig$|auth", re.IGNORECASE)
# A URL in running text: scheme://, then anything up to whitespace or a closing quote or bracket.
_URL_IN_TEXT = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>()\[\]{}]+""")
_NEXT_URL = re.compile(r",(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def masked_url(url: str) -> str:
    """``url`` with its userinfo password and credential-bearing query values replaced by ``***``.

    Works on the text, not on a parsed URL, so an unencoded ``@``, ``/`` or ``?`` in a password
    (which moves ``urlsplit``'s idea of where the host starts) is still masked: the userinfo is
    everything before the *last* ``@``. An ``@`` later in the path or query then masks too much,
    never too little. Strings that are not URLs come back as they are.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return url
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _password = rest[:at].partition(":")
        rest = f"{user}:{MASK}@{rest[at + 1:]}" if colon else rest
    head, qmark, query = rest.partition("?")
    if qmark:
        query, hash_, fragment = query.partition("#")
        query = "&".join(_masked_param(p) for p in query.split("&")) + hash_ + fragment
    return f"{scheme}://{head}{qmark}{query}"


def masked_urls(text: str) -> str:
    """Every URL inside free text (an error message, a log line) passed through :func:`masked_url`."""
    # "https://a,https://b" (a list of servers in one setting) is one match: mask each URL in it.
    return _URL_IN_TEXT.sub(lambda m: ",".join(masked_url(u) for u in _NEXT_URL.split(m.group(0))), text)


def masked_setting(value: Any) -> Any:
    """A settings dump (``model_dump(mode="json")``) with every string run through :func:`masked_urls`.

    Applied to every value rather than to a list of URL fields, so a URL setting added later, or
    a list of them, is masked without anyone remembering to add it here.
    """
    if isinstance(value, str):
        return masked_urls(value)
    if isinstance(value, Mapping):
        return {k: masked_setting(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked_setting(v) for v in value]
    return value


def _masked_param(param: str) -> str:
    name, eq, value = param.partition("=")
    return f"{name}={MASK}" if eq and value and _SECRET_NAME.search(name) else param
