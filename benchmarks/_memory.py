"""This process's memory, for the benchmarks that report it (Linux ``/proc``).

``getrusage(RUSAGE_SELF).ru_maxrss`` is not this process's own peak: Linux carries the peak of
the parent across ``fork`` and ``exec``, so a child started by a benchmark that already held
800 MB reports at least 800 MB. ``VmHWM`` is the peak of this process's own address space.

>>> 0 < rss_bytes() <= peak_rss_bytes()
True
"""

from __future__ import annotations


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_rss_bytes() -> int:
    """The largest resident set this process has had (``VmHWM``)."""
    return _status_kib("VmHWM") * 1024


def rss_bytes() -> int:
    """The resident set now (``VmRSS``)."""
    return _status_kib("VmRSS") * 1024
