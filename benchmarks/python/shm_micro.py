"""The CPython side of benchmarks/micro/shm.ts: multiprocessing's Lock, Event and Value across
processes, and a threading.Event ping-pong while one busy process per core hogs the CPUs.
Registered in micro.py's BENCHES; sizes follow micro.py's (a tenth with --quick).
"""
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time


def bench_mp_lock(size):
    lock = mp.Lock()
    n = size["lockOps"]
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return {"nsPerOp": (time.perf_counter() - t0) * 1e9 / n}


def _increment(lock, value, ready, go, n):
    ready.release()
    go.wait()
    for _ in range(n):
        with lock:
            value.value += 1


def bench_mp_contended(size):
    # Half of the Node side's increments: CPython is ~10x slower, and the rate is what is compared.
    n = size["increments"] // 2
    lock, value, ready, go = mp.Lock(), mp.RawValue("i", 0), mp.Semaphore(0), mp.Event()
    procs = [mp.Process(target=_increment, args=(lock, value, ready, go, n)) for _ in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    t0 = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    assert value.value == 2 * n
    return {"mIncrementsPerSecond": 2 * n / elapsed / 1e6}


def _partner(ping, pong, n):
    pong.set()
    for _ in range(n):
        ping.wait()
        ping.clear()
        pong.set()


def bench_mp_event(size):
    n = size["pingPongs"] // 4
    ping, pong = mp.Event(), mp.Event()
    p = mp.Process(target=_partner, args=(ping, pong, n))
    p.start()
    pong.wait()
    pong.clear()
    t0 = time.perf_counter()
    for _ in range(n):
        ping.set()
        pong.wait()
        pong.clear()
    elapsed = time.perf_counter() - t0
    p.join()
    return {"usPerRoundTrip": elapsed * 1e6 / n}


def _read(value, n, out):
    total = 0.0
    t0 = time.perf_counter()
    for _ in range(n):
        total += value.value
    out.value = (time.perf_counter() - t0) * 1e9 / n


def bench_mp_value(size):
    n = size["lockOps"] // 4
    value, out = mp.Value("d", 1.5), mp.RawValue("d", 0.0)
    p = mp.Process(target=_read, args=(value, n, out))
    p.start()
    p.join()
    return {"nsPerRead": out.value}


def bench_event_hog(size, workers):
    n = size["pingPongs"] // 4
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or workers)]
    try:
        time.sleep(0.2)
        ping, pong = threading.Event(), threading.Event()

        def partner():
            for _ in range(n):
                ping.wait()
                ping.clear()
                pong.set()

        t = threading.Thread(target=partner)
        t.start()
        t0 = time.perf_counter()
        for _ in range(n):
            ping.set()
            pong.wait()
            pong.clear()
        elapsed = time.perf_counter() - t0
        t.join()
        return {"usPerRoundTrip": elapsed * 1e6 / n}
    finally:
        for h in hogs:
            h.kill()
            h.wait()


SHM_BENCHES = {
    "mp_lock": lambda s, w: bench_mp_lock(s),
    "mp_contended": lambda s, w: bench_mp_contended(s),
    "mp_event": lambda s, w: bench_mp_event(s),
    "mp_value": lambda s, w: bench_mp_value(s),
    "event_hog": bench_event_hog,
}
