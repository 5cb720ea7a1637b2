"""Big files do not stall the archive (issue #13 item 8, ARC-5-02, ARC-5-04).

A huge text is parsed in bounded memory and its indexed text is cut with a recorded warning; small
uploads overtake a large one in the intake queue, which still gets its turn; a search matching a
huge document stays fast.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from ingest.jobs import IntakeQueue
from records.model import Registration
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import Services, build_services, init_archive

REPO = Path(__file__).resolve().parents[3]


@dataclass
class Archive:
    services: Services
    number: str
    clock: FrozenClock

    @property
    def queue(self) -> IntakeQueue:
        return self.services.intake


@pytest.fixture
def archive(make_settings: Callable[..., Settings], clock: FrozenClock) -> Iterator[Archive]:
    settings = make_settings(ingest={"workers": 1, "timeout_seconds": 120})
    init_archive(settings)
    services = build_services(settings, clock=clock)
    number = services.records.register_complaint("clerk", Registration(
        matter="大文件投诉材料", complainant="王五", received_at=clock.now)).archive_number
    yield Archive(services, number, clock)
    services.close()


def test_small_uploads_overtake_a_large_one_which_still_gets_its_turn(archive: Archive) -> None:
    """GIVEN a large upload queued before three small ones
    WHEN workers claim jobs
    THEN the small ones are taken first; and GIVEN a large upload that has waited past the limit,
    THEN it is taken before a small one queued after it (it cannot starve)."""
    queue = archive.queue
    queue.large_job_bytes, queue.large_job_wait_seconds = 10_000, 60.0   # the wait within a claim's lease
    big = queue.accept("clerk", archive.number, "卷宗扫描.txt", [b"x" * 20_000]).job_id
    small = [queue.accept("clerk", archive.number, f"信{n}.txt", [f"投诉书 {n}".encode()]).job_id for n in range(3)]
    order = [claim.job_id for claim in iter(lambda: queue.claim("w"), None)]
    assert order == [*small, big]

    waited = queue.accept("clerk", archive.number, "录音转写.txt", [b"y" * 20_000]).job_id
    archive.clock.now += timedelta(seconds=queue.large_job_wait_seconds + 1)
    late = queue.accept("clerk", archive.number, "补充.txt", ["补充材料".encode()]).job_id
    assert [claim.job_id for claim in iter(lambda: queue.claim("w"), None)] == [waited, late]


_RSS_PROBE = textwrap.dedent("""
    import resource, sys
    from pathlib import Path
    from ingest.model import ExtractContext, Limits
    from ingest.workers import _safe_extract
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = _safe_extract(Path(sys.argv[1]), "text/plain", ExtractContext(limits=Limits(max_text_chars=1_000_000)))
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(grown // 1024, len(result.text), "|".join(result.warnings))
""")


def test_a_huge_text_file_is_parsed_in_bounded_memory_and_its_text_cut_with_a_warning(tmp_path: Path) -> None:
    """GIVEN a 96 MiB text file and 1,000,000 characters kept per file
    WHEN the parser reads it
    THEN it grows by far less than the file's size, keeps exactly the limit, and says the text was cut."""
    path = tmp_path / "huge.txt"
    line = ("投诉人反映法律援助律师未按时出庭 complaint line\n" * 64).encode("utf-8")
    with path.open("wb") as f:
        for _ in range(96 * 1024 * 1024 // len(line)):
            f.write(line)
    done = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(path)], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=True)
    grown_mib, chars, warnings = done.stdout.split(maxsplit=2)
    assert int(chars) == 1_000_000
    assert "text cut at 1,000,000 characters for the index; the original is kept whole" in warnings
    assert int(grown_mib) < 48, f"parser grew by {grown_mib} MiB for a 96 MiB file"
