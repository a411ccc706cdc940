"""Shared helpers of the CPython side of the benchmarks: timing, process-tree CPU time, JSON out.

CPU time counts this process and its descendants, as benchmarks/lib/measure.ts does for Node:
live children (the workers of a ProcessPoolExecutor) are read from /proc/<pid>/stat, reaped ones
through this process's cutime/cstime.
"""
import json
import os
import resource
import sys
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
HAS_PROC = os.path.exists("/proc/self/stat")


def _stat(pid):
    try:
        with open("/proc/%s/stat" % pid, "rb") as f:
            text = f.read().decode("latin-1")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split(" ")
    ppid = int(fields[1])
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ppid, ticks * 1000.0 / CLOCK_TICKS


def tree_cpu_ms():
    """CPU ms used so far by this process and its descendants."""
    if not HAS_PROC:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime) * 1000.0
    me = os.getpid()
    total = _stat(me)[1]
    kids = {}
    cpu = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        st = _stat(entry)
        if st is None:
            continue
        cpu[int(entry)] = st[1]
        kids.setdefault(st[0], []).append(int(entry))
    pending = list(kids.get(me, []))
    while pending:
        pid = pending.pop()
        total += cpu.get(pid, 0.0)
        pending.extend(kids.get(pid, []))
    return total


def machine_busy_ms():
    """CPU ms the whole machine has been busy (all cores, every process), or None without /proc/stat."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:]]
    except OSError:
        return None
    return sum(ticks[i] for i in (0, 1, 2, 5, 6, 7) if i < len(ticks)) * 1000.0 / CLOCK_TICKS


def measure(fn):
    """Runs fn() once; returns ({'wallMs', 'cpuMs', 'othersCpuMs'}, value). othersCpuMs is the CPU
    time that processes outside this tree used meanwhile (as benchmarks/lib/measure.ts)."""
    busy0 = machine_busy_ms()
    cpu0 = tree_cpu_ms()
    t0 = time.perf_counter()
    value = fn()
    wall = (time.perf_counter() - t0) * 1000.0
    cpu = tree_cpu_ms() - cpu0
    busy1 = machine_busy_ms()
    others = None if busy0 is None or busy1 is None else max(0.0, busy1 - busy0 - cpu)
    return {"wallMs": wall, "cpuMs": cpu, "othersCpuMs": others}, value


def emit(payload):
    """Writes the result as one JSON document on stdout (the only thing printed there)."""
    payload["python"] = sys.version.split()[0]
    sys.stdout.write(json.dumps(payload))
    sys.stdout.write("\n")
    sys.stdout.flush()
