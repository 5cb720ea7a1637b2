"""Parser isolation: extraction runs in worker processes with a time and memory limit each.

A file that hangs a parser is killed at its timeout; one that exhausts memory or crashes the
interpreter (a segfault in a C library) takes down only its worker, which pebble replaces. Either
way the file gets a recorded outcome and the batch goes on. Workers are recycled after a number of
files to bound leaks in C libraries.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from pebble import ProcessExpired, ProcessFuture, ProcessPool

from ingest.errors import CorruptDocumentError, IngestError, TooLargeError
from ingest.model import ExtractContext, Extraction
from records.errors import ConfigurationError, DossierError

_TASKS_PER_WORKER = 200


def _init_worker(memory_bytes: int) -> None:
    # One OCR thread per process: both cores are used by running two workers instead (3-8x faster here).
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def extract(source: Path | bytes, media_type: str, context: ExtractContext) -> Extraction:
    """Run the registered extractor for ``media_type`` (in this process)."""
    from ingest.extractors import extractor_for

    if isinstance(source, bytes):
        # Extractors read paths; an in-memory attachment goes through an anonymous memory file
        # so its plaintext never touches disk.
        fd = os.memfd_create("dossier-part", 0)
        try:
            os.write(fd, source)
            return extractor_for(media_type).extract(Path(f"/proc/self/fd/{fd}"), media_type, context)
        finally:
            os.close(fd)
    return extractor_for(media_type).extract(source, media_type, context)


def _safe_extract(source: Path | bytes, media_type: str, context: ExtractContext) -> Extraction | DossierError:
    """Worker entry: library exceptions become named ingest errors (pypdf warns they can be anything).

    A ConfigurationError (e.g. OCR language data missing) is the machine's fault, not the file's:
    it is handed back as is and stops the batch instead of marking every file corrupt.
    """
    try:
        return extract(source, media_type, context)
    except (IngestError, ConfigurationError) as exc:
        return exc
    except MemoryError:
        return TooLargeError("too large: parser ran out of memory")
    except RecursionError:
        return CorruptDocumentError("corrupt: structure nested too deeply")
    except Exception as exc:  # noqa: BLE001 - any library failure is a property of the file
        return CorruptDocumentError(f"corrupt: {type(exc).__name__}: {str(exc)[:200]}")


class ExtractionPool:
    """A bounded pool of parser processes (default: one per core)."""

    def __init__(self, workers: int | None = None, *, memory_bytes: int = 0) -> None:
        self._workers = workers or os.cpu_count() or 1
        self._pool = ProcessPool(
            max_workers=self._workers, max_tasks=_TASKS_PER_WORKER, initializer=_init_worker,
            initargs=(memory_bytes,), context=multiprocessing.get_context("forkserver"),
        )

    @property
    def workers(self) -> int:
        return self._workers

    def submit(self, source: Path | bytes, media_type: str, context: ExtractContext) -> ProcessFuture:
        return self._pool.schedule(_safe_extract, args=(source, media_type, context), timeout=context.limits.timeout_seconds)

    @staticmethod
    def result(future: ProcessFuture, context: ExtractContext) -> Extraction:
        """The extraction, or the named error that stands for what went wrong."""
        try:
            outcome = future.result()
        except FutureTimeout:
            raise CorruptDocumentError(f"corrupt: parser gave up after {context.limits.timeout_seconds:g} s (hostile or broken file)") from None
        except ProcessExpired as exc:
            raise CorruptDocumentError(f"corrupt: parser crashed (exit code {exc.exitcode})") from None
        if isinstance(outcome, DossierError):
            raise outcome
        return outcome

    def close(self) -> None:
        self._pool.close()
        self._pool.join(timeout=30)
        self._pool.stop()
