"""Sealed blobs in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO…), via boto3.

Durable means: the ``PutObject`` (or ``CompleteMultipartUpload``) returned, the server checked
the SHA-256 we computed for each request body (``x-amz-checksum-sha256``; it answers BadDigest
otherwise), the checksum it reports for the object matches ours, and a ``HeadObject`` reports
the size we sent.

Write-once: a ``HeadObject`` refuses taken keys early, and the upload itself carries
``If-None-Match: *`` so that of two racing writers only one wins (the server answers 412).
SeaweedFS 4.x honours ``If-None-Match`` on both PutObject and CompleteMultipartUpload.

Memory: objects up to ``part_size`` go up in one request; larger ones as a multipart upload
holding one part in memory at a time. A failed multipart upload is aborted so no parts linger.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import botocore.exceptions
import urllib3.exceptions

from records.errors import ConfigurationError
from records.vault.errors import BlobExistsError, BlobNotFoundError, StorageUnavailableError
from records.vault.interfaces import BlobInfo, BlobKey, BlobStore

if TYPE_CHECKING:  # stubs only (types-boto3[s3], in the test extra); nothing imported at run time
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import CompletedPartTypeDef

__all__ = ["S3BlobStore"]

DEFAULT_PART_SIZE = 8 * 1024 * 1024
_MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
_READ_SIZE = 1024 * 1024
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_TAKEN = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


class S3BlobStore:
    """Write-once blobs under ``prefix`` in one bucket.

    Args:
        bucket: the bucket; it must exist.
        prefix: key prefix inside the bucket ("" or e.g. "vault"; a "/" is added).
        client: a boto3 S3 client (built from settings by :func:`records.vault.open_blob_store`).
        part_size: bytes per multipart part and the single-request threshold.
    """

    name: ClassVar[str] = "s3"

    def __init__(self, bucket: str, prefix: str, client: S3Client, *, part_size: int = DEFAULT_PART_SIZE) -> None:
        if part_size < _MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {_MIN_PART_SIZE} bytes")
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client = client
        self._part_size = part_size

    def put(self, key: BlobKey, chunks: Iterable[bytes]) -> BlobInfo:
        name = self._name(key)
        if self._exists(key):
            raise BlobExistsError(key)
        it = iter(chunks)
        first = self._fill(it)
        if len(first) < self._part_size:
            size = self._put_single(key, name, first)
        else:
            size = self._put_multipart(key, name, first, it)
        info = self.stat(key)
        if info.size != size:
            raise StorageUnavailableError(self.name, f"{key}: server holds {info.size} bytes, {size} were sent")
        return info

    def get(self, key: BlobKey) -> Iterator[bytes]:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=self._name(key))["Body"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, key)
        return _Body(self, key, body)

    def stat(self, key: BlobKey) -> BlobInfo:
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=self._name(key))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, key)
        return BlobInfo(key=key, size=int(head["ContentLength"]))

    def delete(self, key: BlobKey) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=self._name(key))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            if not (isinstance(exc, botocore.exceptions.ClientError) and _code(exc) in _NOT_FOUND):
                self._fail(exc, key)

    def keys(self, prefix: str = "") -> Iterator[BlobKey]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
                for entry in page.get("Contents", []):
                    yield BlobKey(entry["Key"][len(self._prefix):])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, None)

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ uploads
    def _fill(self, it: Iterator[bytes]) -> bytearray:
        buf = bytearray()
        for chunk in it:
            buf += chunk
            if len(buf) >= self._part_size:
                break
        return buf

    def _put_single(self, key: BlobKey, name: str, body: bytearray) -> int:
        digest = _b64sha256(body)
        try:
            reply = self._client.put_object(Bucket=self._bucket, Key=name, Body=bytes(body),
                                            ChecksumSHA256=digest, IfNoneMatch="*")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, key)
        reported = reply.get("ChecksumSHA256")
        if reported is not None and reported != digest:
            self.delete(key)
            raise StorageUnavailableError(self.name, f"{key}: server checksum {reported} differs from ours")
        return len(body)

    def _put_multipart(self, key: BlobKey, name: str, first: bytearray, it: Iterator[bytes]) -> int:
        try:
            upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=name, ChecksumAlgorithm="SHA256")["UploadId"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, key)
        parts: list[CompletedPartTypeDef] = []
        digests: list[bytes] = []
        size = 0
        try:
            pending = first
            while pending:
                # Cut exactly part_size bytes; the rest starts the next part.
                body, pending = bytes(pending[: self._part_size]), pending[self._part_size :]
                if len(pending) < self._part_size:
                    pending += self._fill_to(it, self._part_size - len(pending))
                raw = hashlib.sha256(body).digest()
                digest = base64.b64encode(raw).decode("ascii")
                number = len(parts) + 1
                reply = self._client.upload_part(Bucket=self._bucket, Key=name, UploadId=upload_id,
                                                 PartNumber=number, Body=body, ChecksumSHA256=digest)
                parts.append({"PartNumber": number, "ETag": reply["ETag"], "ChecksumSHA256": digest})
                digests.append(raw)
                size += len(body)
            done = self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=name, UploadId=upload_id,
                MultipartUpload={"Parts": parts}, IfNoneMatch="*",
            )
        except BaseException as exc:
            self._abort(name, upload_id)
            if isinstance(exc, (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)):
                self._fail(exc, key)
            raise
        expected = f"{_b64sha256(b''.join(digests))}-{len(parts)}"
        reported = done.get("ChecksumSHA256")
        if reported is not None and reported != expected:
            self.delete(key)
            raise StorageUnavailableError(self.name, f"{key}: server checksum {reported} differs from ours {expected}")
        return size

    def _fill_to(self, it: Iterator[bytes], want: int) -> bytearray:
        buf = bytearray()
        for chunk in it:
            buf += chunk
            if len(buf) >= want:
                break
        return buf

    def _abort(self, name: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=name, UploadId=upload_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            pass  # best effort; a bucket lifecycle rule should expire stray uploads anyway

    def ensure_bucket(self) -> bool:
        """Create the bucket when it does not exist yet (``dossier init``); True if it was created.

        An operator may give the archive credentials that can create its bucket, or create it
        themselves and give narrower ones (read, write, list on that bucket only): both work.

        Raises:
            ConfigurationError: the bucket does not exist and these credentials may not create it;
                the message says to create it.
            StorageUnavailableError: the store cannot be reached or refused the check.
        """
        try:
            self._client.head_bucket(Bucket=self._bucket)
            return False
        except botocore.exceptions.ClientError as exc:
            if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                self._fail(exc, None)
        except Exception as exc:  # noqa: BLE001 - connection refused, timeout: the store is down
            self._fail(exc, None)
        region = self._client.meta.region_name
        where: dict[str, Any] = ({"CreateBucketConfiguration": {"LocationConstraint": region}}
                                 if region and region != "us-east-1" else {})  # AWS: us-east-1 takes none
        try:
            self._client.create_bucket(Bucket=self._bucket, **where)
        except botocore.exceptions.ClientError as exc:
            code = _code(exc)
            if code == "BucketAlreadyOwnedByYou":  # created meanwhile by another `init`
                return False
            raise ConfigurationError(
                f"S3 bucket {self._bucket!r} does not exist and these credentials may not create it ({code}): "
                f"create the bucket, give the archive's credentials read, write and list on it, and run "
                f"`dossier init` again") from exc
        except Exception as exc:  # noqa: BLE001
            self._fail(exc, None)
        return True

    # ------------------------------------------------------------------ helpers
    def _exists(self, key: BlobKey) -> bool:
        try:
            self.stat(key)
        except BlobNotFoundError:
            return False
        return True

    def _name(self, key: str) -> str:
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in key.split("/")):
            raise ValueError(f"invalid blob key {key!r}")
        return self._prefix + key

    def _fail(self, exc: Exception, key: BlobKey | None) -> NoReturn:
        if isinstance(exc, botocore.exceptions.ClientError):
            code = _code(exc)
            if key is not None and code in _NOT_FOUND:
                raise BlobNotFoundError(key) from exc
            if key is not None and code in _TAKEN:
                raise BlobExistsError(key) from exc
            if code == "NoSuchBucket":
                raise StorageUnavailableError(self.name, f"bucket {self._bucket!r} does not exist") from exc
            raise StorageUnavailableError(self.name, f"{code}: {exc.response.get('Error', {}).get('Message', '')}") from exc
        raise StorageUnavailableError(self.name, f"{exc.__class__.__name__}: {exc}") from exc


class _Body(Iterator[bytes]):
    """Chunks of a GetObject body; closes the connection when exhausted, failed or closed.

    The status line came with ``get_object``, so a store that fails now does so mid-stream:
    a connection reset or cut short, a read timeout, fewer bytes than its Content-Length.
    botocore wraps most of these (ResponseStreamingError, ReadTimeoutError, IncompleteReadError),
    but what urllib3 or http.client raise past it is the same outage. All of it is "unavailable"
    (exit 14, HTTP 503), never an integrity failure: the sealed bytes were not read, not altered.
    """

    def __init__(self, store: S3BlobStore, key: BlobKey, body: Any) -> None:
        self._store = store
        self._key = key
        self._body = body
        self._chunks = body.iter_chunks(_READ_SIZE)

    def __next__(self) -> bytes:
        try:
            chunk: bytes = next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except (botocore.exceptions.BotoCoreError, urllib3.exceptions.HTTPError, http.client.HTTPException,
                OSError) as exc:
            self.close()
            raise StorageUnavailableError(self._store.name, f"reading {self._key}: {exc}") from exc
        return chunk

    def close(self) -> None:
        self._body.close()


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _b64sha256(data: bytes | bytearray) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


_: type[BlobStore] = S3BlobStore
