"""What every benchmark shares: summaries of samples, repeats, memory, machine info, JSON.

Conventions of the results JSON:

- a latency distribution is ``{"p50", "p95", "p99", "min", "max", "mean", "n"}`` (ms);
- a figure measured in repeated runs is ``{"median", "min", "max", "n"}`` over the runs;
- a comparison is a ratio of two figures measured in the same run, summarised the same way;
- ``aims`` lists each aim of the issue with the measured value and whether it is met.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

_T = TypeVar("_T")

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
#: the packages whose versions decide the numbers
PACKAGES = (
    "article-assistant",
    "torch",
    "sentence-transformers",
    "onnxruntime",
    "chromadb",
    "langchain-core",
    "langchain-chroma",
    "fastapi",
    "uvicorn",
    "gradio",
    "httpx",
)


def offline_environment() -> None:
    """Nothing may be downloaded at run time: set before any model library is imported."""
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("GRADIO_ANALYTICS_ENABLED", "False"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(key, value)


def distribution(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99, min, max and mean of latency samples (ms), linearly interpolated."""
    if not samples_ms:
        return {"n": 0}
    values = np.asarray(samples_ms, dtype=float)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "min": round(float(values.min()), 3),
        "max": round(float(values.max()), 3),
        "mean": round(float(values.mean()), 3),
        "n": len(values),
    }


def spread(values: Iterable[float | None], digits: int = 3) -> dict[str, float | None]:
    """Median, min and max of one figure measured in repeated runs (``None``s skipped)."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {
        "median": round(statistics.median(kept), digits),
        "min": round(min(kept), digits),
        "max": round(max(kept), digits),
        "n": len(kept),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or ``None`` when either is missing or zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def repeat(action: Callable[[int], _T], times: int) -> list[_T]:
    """``action(i)`` for each run ``i``; the runs' results, in order."""
    return [action(i) for i in range(times)]


def timed_ms(action: Callable[[], object]) -> float:
    """How long ``action()`` took, in milliseconds."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def aim(
    name: str, measured: float | None, target: str, met: bool | None, report_only: bool = False
) -> dict[str, Any]:
    """One entry of a result's ``aims``: what was aimed at, what was measured, met or not.

    ``met`` is ``None`` when the figure could not be measured in this run (a missing
    part), which is not a pass; ``report_only`` aims have no threshold, only a figure.
    """
    return {
        "aim": name,
        "target": target,
        "measured": None if measured is None else round(measured, 3),
        "met": None if report_only else met,
        "report_only": report_only,
    }


# -- memory ------------------------------------------------------------------------------


def _status_kib(pid: int | str, field: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def peak_rss_mb(pid: int | None = None) -> float | None:
    """Peak resident memory (MiB) of ``pid`` (default: this process) since start or reset.

    Read from /proc (VmHWM), which ``reset_peak_rss`` can reset between phases; without
    /proc, this process's lifetime peak from ``getrusage`` (KiB on Linux).
    """
    kib = _status_kib(pid or "self", "VmHWM")
    if kib is None and pid is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return None if kib is None else round(kib / 1024, 1)


def cpu_s(pid: int | None = None) -> float | None:
    """CPU seconds (user and system, all threads) ``pid`` (default: this process) has used
    so far; ``None`` when /proc cannot tell (the process is gone, or no /proc)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        # the fields after the command's name, which is in parentheses and may hold spaces
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, fields 14 and 15 of proc(5), in clock ticks
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float | None:
    """CPU seconds every core of the machine has spent busy since it started (all
    processes, ours and other jobs'), from /proc/stat; ``None`` without it."""
    try:
        first = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy
    ticks = [int(v) for v in first[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int | None = None) -> float | None:
    """Resident memory (MiB) of ``pid`` (default: this process) now."""
    kib = _status_kib(pid or "self", "VmRSS")
    return None if kib is None else round(kib / 1024, 1)


def reset_peak_rss(pid: int | None = None) -> bool:
    """Reset the peak-RSS mark of ``pid`` (Linux's clear_refs "5"); False where unsupported."""
    try:
        Path(f"/proc/{pid or 'self'}/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def folder_size_mb(folder: Path) -> float:
    """Bytes on disk of every file under ``folder``, in MiB."""
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return round(total / 2**20, 2)


# -- machine and output ------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """Cores, memory, Python and the versions of the packages that decide the numbers."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    mem_kib = None
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": None if mem_kib is None else round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "versions": versions,
    }


def write_result(name: str, result: dict[str, Any], out_dir: Path = RESULTS_DIR) -> Path:
    """Write ``out_dir/<name>.json`` with the machine info and the command line added."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "benchmarks", *sys.argv[1:]]),
        "machine": machine_info(),
        **result,
    }
    target = out_dir / f"{name}.json"
    partial = target.with_suffix(".json.tmp")
    partial.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(target)  # a reader never sees half a file
    return target


def progress(message: str) -> None:
    """One progress line on stderr (the tables go to stdout)."""
    print(f"  · {message}", file=sys.stderr, flush=True)
