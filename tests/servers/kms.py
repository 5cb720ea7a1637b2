"""A KMS endpoint on 127.0.0.1 for the test session: moto's server, standing in for AWS KMS.

AWS KMS cannot run here and there is no open-source KMS server, so this is the one place the
key-service tests use a stand-in: moto's ``ThreadedMotoServer`` speaks the real KMS HTTP API
(boto3 talks to it over a real socket, with real request signing), which exercises our client
code, error translation and alias-based rotation. What it cannot show is AWS's own behaviour
(IAM policies, CloudTrail, exact error codes in every corner). A server that does not start is
a test error, never a skip.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"


@dataclass(frozen=True)
class KmsEndpoint:
    """A KMS-compatible endpoint and credentials it accepts."""

    url: str
    region: str = REGION
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY

    def client(self) -> Any:
        """A boto3 KMS client for this endpoint."""
        import boto3

        return boto3.client("kms", endpoint_url=self.url, region_name=self.region,
                            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key)

    def create_alias(self) -> str:
        """Create a new symmetric key behind a fresh alias; returns the alias name ("alias/…")."""
        client = self.client()
        try:
            key = client.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
            alias = f"alias/t-{uuid.uuid4().hex[:16]}"
            client.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
        finally:
            client.close()
        return alias


@pytest.fixture(scope="session")
def kms_endpoint() -> Iterator[KmsEndpoint]:
    """A KMS endpoint for the session: moto's server on 127.0.0.1 (AWS KMS cannot run here)."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; keep test output about the tests.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = KmsEndpoint(url=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("moto's KMS server did not accept connections within 30 s")
                time.sleep(0.1)
        yield endpoint
    finally:
        server.stop()
