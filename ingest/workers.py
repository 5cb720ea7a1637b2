"""Parser isolation: extraction runs in worker processes with a time and memory limit each.

A file that hangs a parser is killed at its timeout; one that exhausts memory or crashes the
interpreter (a segfault in a C library) takes down only its worker, which pebble replaces. Either
way the file gets a recorded outcome and the batch goes on. Workers are recycled after a number of
files to bound leaks in C libraries.

Every file tells its own story (issue #13 item 7): what the libraries say while one file is parsed
— Python warnings, WARNING+ log records of library loggers (pypdf, PIL, extract_msg …) and what C
code (leptonica, tesseract, a subprocess) writes straight to file descriptor 2 — is captured for
that file (:func:`library_output`) instead of going to stderr without a file name, and becomes
de-duplicated, length-capped notes on its extraction. Notes that only say a library repaired a
common slip without losing anything (:data:`_BENIGN`: pypdf's "incorrect startxref pointer",
tesseract's resolution estimate …) go to ``Extraction.notes``: listed in the file's ``warnings``
but the outcome stays ``ok``. Every other note (an error, "EOF marker not found", a decompression
failure) is a warning: the outcome is ``ok_with_warnings`` and a reviewer looks (ARC-5-02:
material is filed with what was and was not read). A worker process parses one file at a time, so redirecting fd 2 for the duration
of one parse attributes everything written there to that file.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import re
import resource
import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from pebble import ProcessExpired, ProcessFuture, ProcessPool

from ingest.errors import CorruptDocumentError, IngestError, TooLargeError
from ingest.extractors._bounded import text_cut_warning
from ingest.language import detect_languages
from ingest.model import ExtractContext, Extraction
from records.errors import ConfigurationError, DossierError

_TASKS_PER_WORKER = 200

# Library notes per file: at most this many entries (then "… N more"), each cut to this length.
MAX_NOTES = 20
_NOTE_CHARS = 200
_STDERR_BYTES = 64 * 1024           # what C code wrote to fd 2 is read back up to this much
_LANGUAGE_SAMPLE = 200_000          # characters whose scripts decide a text's languages
# Our own modules log as they always do; only third-party loggers' records are the file's story.
_OWN_LOGGERS = frozenset({"ingest", "records", "search", "web", "retention", "dossier", "benchmarks", "scripts"})
# Warnings about the code, not the file: never a file's story.
_CODE_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning, ResourceWarning)
# Notes that say a library repaired a common slip without losing content: listed, outcome unchanged.
_BENIGN = re.compile(
    r"^(pypdf: (incorrect startxref pointer|parsing for Object Streams|Multiple definitions in dictionary"
    r"|Ignoring wrong pointing object|Superfluous whitespace found in object header|Object \d+ \d+ found"
    r"|Xref table not zero-indexed)"
    r"|tesseract: (Estimating resolution as|Warning: Invalid resolution|Detected \d+ diacritics|Empty page))"
)
# What C libraries write to fd 2, recognised by shape, so the note names its library.
_NATIVE_SOURCES = (
    (re.compile(r"^(Error|Warning|Info) in \w+:"), "leptonica"),
    (re.compile(r"^(Estimating resolution as|Warning: Invalid resolution|Detected \d+ diacritics|Empty page)"), "tesseract"),
)


def _native_note(line: str) -> str:
    for pattern, source in _NATIVE_SOURCES:
        if pattern.match(line):
            return f"{source}: {line}"
    return f"native: {line}"


def _package_of(filename: str) -> str:
    """The top-level package a warning was raised in (".../site-packages/pypdf/_reader.py" -> "pypdf")."""
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1].removesuffix(".py")
    return Path(filename).stem


class _LibraryLog(logging.Handler):
    """Collects library loggers' WARNING+ records; hands our own records on to the real stderr."""

    def __init__(self, own: logging.Handler) -> None:
        super().__init__(logging.NOTSET)
        self.notes: list[str] = []
        self._own = own

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] in _OWN_LOGGERS:
            # Our own lines are the application log, not the file's story: they go where stderr
            # went before the capture (the saved descriptor), never into the file's notes.
            if record.levelno >= self._own.level:
                self._own.handle(record)
        elif record.levelno >= logging.WARNING:
            try:
                self.notes.append(f"{record.name.split('.', 1)[0]}: {record.getMessage()}")
            except Exception:  # noqa: BLE001 - a malformed library log call must not fail the file
                self.notes.append(f"{record.name.split('.', 1)[0]}: {record.msg!r}")


@contextmanager
def library_output() -> Iterator[list[str]]:
    """Capture what libraries say while one file is parsed; the yielded list is filled on exit.

    Python warnings, library log records and writes to file descriptor 2 (C code, subprocesses)
    are all collected; nothing of it reaches stderr. The fd redirection is process-wide: use it
    where one file is parsed at a time (a worker process), not around concurrent parses.
    The capture holds at most ``_STDERR_BYTES`` (a sealed memfd: a library that prints an error
    per pixel cannot grow it beyond that, outside the worker's memory limit).
    """
    notes: list[str] = []
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    saved_fd: int | None = None
    capture: int | None = None
    own_stream = None
    caught: list[warnings.WarningMessage] = []
    collector: _LibraryLog | None = None
    try:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        saved_fd = os.dup(2)
        own_stream = os.fdopen(os.dup(saved_fd), "w", encoding="utf-8", errors="replace", closefd=True)
        own = logging.StreamHandler(own_stream)
        own.setFormatter(saved_handlers[0].formatter if saved_handlers else logging.Formatter(logging.BASIC_FORMAT))
        own.setLevel(min((h.level for h in saved_handlers), default=logging.WARNING))
        collector = _LibraryLog(own)
        root.handlers = [collector]
        capture = os.memfd_create("dossier-stderr", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(capture, _STDERR_BYTES)
        # Writes past the end fail instead of growing the file; C libraries ignore a failed write.
        fcntl.fcntl(capture, fcntl.F_ADD_SEALS, fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK)
        os.dup2(capture, 2)
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            try:
                yield notes
            finally:
                caught = list(recorded)
    finally:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        root.handlers = saved_handlers
        if own_stream is not None:
            own_stream.close()
        written = b""
        if capture is not None:
            written = os.pread(capture, _STDERR_BYTES, 0).rstrip(b"\0")
            os.close(capture)
        for w in caught:
            if not issubclass(w.category, _CODE_WARNINGS):
                notes.append(f"{_package_of(w.filename)}: {w.message}")
        if collector is not None:
            notes.extend(collector.notes)
        notes.extend(_native_note(line.strip()) for line in written.decode("utf-8", "replace").splitlines()
                     if line.strip())


def summarize_notes(notes: list[str] | tuple[str, ...], limit: int = MAX_NOTES) -> tuple[str, ...]:
    """De-duplicated (first-seen order, "(N times)" when repeated), length-capped, at most ``limit``
    entries plus "… N more"."""
    counts: dict[str, int] = {}
    for note in notes:
        note = " ".join(note.split())
        if len(note) > _NOTE_CHARS:
            note = note[:_NOTE_CHARS - 1] + "…"
        counts[note] = counts.get(note, 0) + 1
    out = [note if n == 1 else f"{note} ({n} times)" for note, n in counts.items()]
    if len(out) > limit:
        out = out[:limit] + [f"… {len(out) - limit} more"]
    return tuple(out)


def is_benign(note: str) -> bool:
    """Whether a library note only says a common slip was repaired (outcome stays ``ok``)."""
    return bool(_BENIGN.match(note))


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

    What the libraries said meanwhile is the file's (:func:`library_output`): on an extraction
    as warnings or notes, on an error as its ``library_notes`` attribute (pickled with it).
    """
    with library_output() as said:
        outcome = _extract_or_error(source, media_type, context)
    notes = summarize_notes(said)
    if isinstance(outcome, Extraction):
        return _told(outcome, notes, media_type, context)
    if notes and isinstance(outcome, IngestError):
        outcome.library_notes = notes  # type: ignore[attr-defined]
    return outcome


def _extract_or_error(source: Path | bytes, media_type: str, context: ExtractContext) -> Extraction | DossierError:
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


def _told(extraction: Extraction, notes: tuple[str, ...], media_type: str, context: ExtractContext) -> Extraction:
    """The extraction with its library notes, an unused password and a text cut recorded."""
    from ingest.extractors import extractor_for

    warnings_ = list(extraction.warnings)
    warnings_.extend(n for n in notes if not is_benign(n))
    benign = tuple(n for n in notes if is_benign(n))
    if context.password and context.depth == 0:
        extractor = extractor_for(media_type)
        if not getattr(extractor, "takes_password", False):
            # Said, but not a reason for review: a batch given one password holds text and images too.
            benign += (f"password given but {getattr(extractor, 'name', media_type)} files take none; not used",)
    text = extraction.text
    cap = context.limits.max_text_chars
    if cap and len(text) > cap:
        # The index and catalogue keep a bounded text (issue #13 item 8); the sealed original is whole.
        text = text[:cap]
        warnings_.append(text_cut_warning(cap))
    languages = extraction.languages
    if not languages and text and not text.isspace():
        # Every text gets its languages (issue #13 item 7): e-mail, .msg, Word and text extractors
        # leave them to this step. A prefix decides: counting is per character and texts can be huge.
        languages = detect_languages(text[:_LANGUAGE_SAMPLE])
    if (text is extraction.text and len(warnings_) == len(extraction.warnings) and not benign
            and languages == extraction.languages):
        return extraction
    return replace(extraction, text=text, warnings=tuple(warnings_), notes=extraction.notes + benign,
                   languages=languages)


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
