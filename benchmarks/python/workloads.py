"""The CPython side of the main benchmark (benchmarks/main.ts): the same tasks as
benchmarks/workloads/tasks.ts, run serially, by ThreadPoolExecutor and by ProcessPoolExecutor.

Reads a JSON job on stdin:
  {"workers": 2, "reps": 3, "warmup": true,
   "workloads": [{"name": "fib", "task": "fib", "args": [27, 27]}, ...]}
and writes {"results": [{"workload", "strategy", "wallMs", "cpuMs", "results"}, ...]} on stdout.
Pools are started and warmed up before timing, as on the Node side.
"""
import hashlib
import json
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from common import emit, measure

HASH_BLOCK = bytes([7]) * 65536


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def sieve(limit):
    composite = bytearray(limit)
    count = 0
    for i in range(2, limit):
        if not composite[i]:
            count += 1
            composite[i * i::i] = b"\x01" * len(range(i * i, limit, i))
    return count


def sha256(rounds):
    digest = bytes(32)
    for _ in range(rounds):
        digest = hashlib.sha256(digest + HASH_BLOCK).digest()
    return int.from_bytes(digest[:4], "big")


def timer(ms):
    time.sleep(ms / 1000.0)  # in a thread this releases the GIL, as any blocking call does
    return ms


def readFile(path):
    with open(path, "rb") as f:
        return len(f.read())


def httpGet(url):
    with urllib.request.urlopen(url) as response:
        return len(response.read())


def blockingSleep(ms):
    subprocess.run(["sleep", str(ms / 1000.0)], check=True)
    return ms


def blockingWait(ms):
    time.sleep(ms / 1000.0)  # the counterpart of Atomics.wait: the thread blocks in the kernel
    return ms


TASKS = {f.__name__: f for f in (fib, sieve, sha256, timer, readFile, httpGet, blockingSleep, blockingWait)}


def run_task(name, arg):
    return TASKS[name](arg)


def serial(_pool, task, args):
    return [run_task(task, a) for a in args]


def pooled(pool, task, args):
    return [f.result() for f in [pool.submit(run_task, task, a) for a in args]]


def main():
    job = json.load(sys.stdin)
    workers = job["workers"]
    reps = job.get("reps", 1)
    warmup = job.get("warmup", False)
    names = job.get("strategies", ["serial", "threads", "processes"])
    # All pools first, then rounds that run every strategy once (rotated), as benchmarks/lib/job.ts
    # does: on a shared machine every strategy then sees the same drift in load.
    pools = {"serial": None}
    if "threads" in names:
        pools["threads"] = ThreadPoolExecutor(max_workers=workers)
    if "processes" in names:
        pools["processes"] = ProcessPoolExecutor(max_workers=workers)
    strategies = [n for n in names if n in pools]
    out = []
    try:
        for name in strategies:
            if pools[name] is not None:
                pooled(pools[name], "timer", [20] * workers)
        rounds = reps + (1 if warmup else 0)
        for w in job["workloads"]:
            args = w["args"]
            samples = {n: [] for n in strategies}
            results = {}
            for round_ in range(rounds):
                for k in range(len(strategies)):
                    name = strategies[(k + round_) % len(strategies)]
                    pool = pools[name]
                    runner = serial if pool is None else pooled
                    sample, results[name] = measure(lambda: runner(pool, w["task"], args))
                    if round_ >= rounds - reps:
                        samples[name].append(sample)
            for name in strategies:
                # The fastest run: interference from other work only ever slows a run down.
                best = min(samples[name], key=lambda s: s["wallMs"])
                out.append({"workload": w["name"], "strategy": "cpython-" + name,
                            "wallMs": best["wallMs"], "cpuMs": best["cpuMs"], "othersCpuMs": best["othersCpuMs"],
                            "reps": reps, "results": results[name]})
            print("cpython %s: %s" % (w["name"], ", ".join("%s %.0f ms" % (o["strategy"][8:], o["wallMs"]) for o in out[-len(strategies):])),
                  file=sys.stderr, flush=True)
    finally:
        for pool in pools.values():
            if pool is not None:
                pool.shutdown(wait=True)
    emit({"results": out})


if __name__ == "__main__":
    main()
