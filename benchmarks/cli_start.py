"""How fast the `dossier` command line starts (issue #9 item 7, "A CLI that starts fast").

Usage::

    .venv/bin/python benchmarks/cli_start.py [--runs 15] [--json]

A temporary embedded archive (SQLite catalogue, local vault, FTS5 index) is made with
`dossier init` and one `dossier new`; then each command below runs ``--runs`` times as a fresh
subprocess (after one untimed warm-up run), and its wall time is taken from spawn to exit:

* ``python -c pass`` — the interpreter alone, the baseline every ratio is against;
* ``dossier --version`` and ``dossier --help`` — no archive opened (target ≤ 0.2 s);
* ``dossier show NUMBER`` — opens the archive read-only in effect and prints one dossier
  (target ≤ 0.5 s);
* ``dossier list`` — the same services, one catalogue query more.

Reported per command: best and median seconds, and the ratio of each to the baseline's. The
`dossier` console script next to this interpreter is used (``python -m web.cli`` if absent).
Targets are informative only; nothing fails on them (timing is not a test).

Bytecode: by default the runs read and write ``.pyc`` files under a temporary
``PYTHONPYCACHEPREFIX`` (the warm-up run fills it), as an installed `dossier` would, whatever
``PYTHONDONTWRITEBYTECODE`` says, and without writing into the source tree.
``--no-bytecode-cache`` keeps the caller's settings instead (with ``PYTHONDONTWRITEBYTECODE=1``
and no caches, every run compiles the project's modules again: a slower, different number).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {"dossier --version": 0.2, "dossier --help": 0.2, "dossier show NUMBER": 0.5}


def _env(data_dir: Path, pycache: Path | None) -> dict[str, str]:
    """The caller's environment without its DOSSIER_* variables, pointed at the temporary archive."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env["DOSSIER_DATA_DIR"] = str(data_dir)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _dossier() -> list[str]:
    script = Path(sys.executable).with_name("dossier")
    return [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed, done.stdout


def _time(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    _run(argv, env)  # warm-up: page cache, .pyc files
    times = [_run(argv, env)[0] for _ in range(runs)]
    return {"best": min(times), "median": statistics.median(times)}


def measure(runs: int, *, bytecode_cache: bool = True) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="dossier-cli-start-"))
    try:
        data_dir = tmp / "data"
        env = _env(data_dir, tmp / "pycache" if bytecode_cache else None)
        dossier = _dossier()
        _run([*dossier, "init"], env)
        number = _run([*dossier, "new", "--complainant", "张三", "--respondent", "某律所",
                       "--matter", "拖延办理", "--channel", "fax"], env)[1].strip()
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "dossier --version": [*dossier, "--version"],
            "dossier --help": [*dossier, "--help"],
            "dossier show NUMBER": [*dossier, "show", number],
            "dossier list": [*dossier, "list"],
        }
        results = {name: _time(argv, env, runs) for name, argv in commands.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = results["python -c pass"]
    for name, r in results.items():
        r["ratio_best"] = r["best"] / base["best"]
        r["ratio_median"] = r["median"] / base["median"]
        if name in TARGETS:
            r["target"] = TARGETS[name]
    return {"runs": runs, "command": " ".join(dossier), "python": sys.version.split()[0],
            "bytecode_cache": bytecode_cache, "cpus": os.cpu_count(), "load_average": _load(), "results": results}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="keep the caller's PYTHONDONTWRITEBYTECODE / PYTHONPYCACHEPREFIX (see above)")
    args = ap.parse_args()
    report = measure(max(1, args.runs), bytecode_cache=not args.no_bytecode_cache)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['command']}, {report['runs']} runs each, Python {report['python']}, "
          f"bytecode cache {'on' if report['bytecode_cache'] else 'as the caller has it'}, "
          f"{report['cpus']} CPUs, load average {report['load_average']}")
    print(f"{'command':<22} {'best s':>8} {'median s':>9} {'×base':>7} {'target s':>9}")
    for name, r in report["results"].items():  # type: ignore[union-attr]
        target = f"{r['target']:.1f}" if "target" in r else ""
        flag = " (over)" if "target" in r and r["median"] > r["target"] else ""
        print(f"{name:<22} {r['best']:>8.3f} {r['median']:>9.3f} {r['ratio_median']:>7.1f} {target:>9}{flag}")


if __name__ == "__main__":
    main()
