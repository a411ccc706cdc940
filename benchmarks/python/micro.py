"""The CPython side of the micro benchmarks (benchmarks/micro/): the same measurements done with
threading and concurrent.futures, so the Node run can print both side by side.

  python3 micro.py [--quick] [--workers N] --only lock,event,contended,thread,tpe,ppe,map,latency,cpu,memory

writes {"results": {name: {...}}} on stdout. Sizes follow benchmarks/micro/sizes.ts (--quick
divides them the same way). "memory" should run alone in its own process: it reports this
process's peak RSS (VmHWM).
"""
import argparse
import resource
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from common import emit
from shm_micro import SHM_BENCHES


def inc(x):
    return x + 1


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def bench_lock(size):
    lock = threading.Lock()
    n = size["lockOps"]
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return {"nsPerOp": (time.perf_counter() - t0) * 1e9 / n}


def bench_event(size):
    n = size["pingPongs"]
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


def bench_contended(size):
    n = size["increments"]
    lock = threading.Lock()
    counter = [0]
    go = threading.Event()

    def work():
        go.wait()
        for _ in range(n):
            with lock:
                counter[0] += 1

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"ms": elapsed * 1000, "nsPerIncrement": elapsed * 1e9 / (2 * n), "correct": counter[0] == 2 * n}


def bench_thread(size):
    def start_join():
        t0 = time.perf_counter()
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
        return (time.perf_counter() - t0) * 1000

    cold = start_join()
    warm = sorted(start_join() for _ in range(size["threadStarts"]))
    return {"coldMs": cold, "warmMs": warm[len(warm) // 2]}


def throughput(pool, n):
    t0 = time.perf_counter()
    futures = [pool.submit(inc, i) for i in range(n)]
    for f in futures:
        f.result()
    return n / (time.perf_counter() - t0)


def warm(pool, workers):
    for f in [pool.submit(time.sleep, 0.02) for _ in range(workers)]:
        f.result()


def bench_tpe(size, workers):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        warm(pool, workers)
        return {"tasksPerSecond": throughput(pool, size["threadTasks"])}


def bench_ppe(size, workers):
    with ProcessPoolExecutor(max_workers=workers) as pool:
        warm(pool, workers)
        return {"tasksPerSecond": throughput(pool, size["processTasks"])}


def bench_map(size, workers):
    n = size["mapItems"]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        warm(pool, workers)
        t0 = time.perf_counter()
        for _ in pool.map(inc, range(n), chunksize=100):
            pass
        return {"itemsPerSecond": n / (time.perf_counter() - t0)}


def one_at_a_time(pool, n):
    t0 = time.perf_counter()
    for i in range(n):
        pool.submit(inc, i).result()
    return (time.perf_counter() - t0) * 1e6 / n


def bench_latency(size, workers):
    n = size["latencyTasks"]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        warm(pool, workers)
        threads = one_at_a_time(pool, n)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        warm(pool, workers)
        processes = one_at_a_time(pool, n)
    return {"threadsUs": threads, "processesUs": processes}


def bench_cpu(size, workers):
    # As cpuSession in micro/benches.ts: each round runs the tasks serially, then on each pool (the
    # order rotating from round to round); every side keeps its best time.
    n, tasks = size["pyFib"], size["cpuTasks"]
    pools = {"threads": ThreadPoolExecutor(max_workers=workers), "processes": ProcessPoolExecutor(max_workers=workers)}
    keys = list(pools)
    serial = float("inf")
    best = {key: float("inf") for key in keys}
    try:
        for pool in pools.values():
            warm(pool, workers)
        for round_ in range(size["cpuRounds"]):
            t0 = time.perf_counter()
            for _ in range(tasks):
                fib(n)
            serial = min(serial, time.perf_counter() - t0)
            for k in range(len(keys)):
                key = keys[(k + round_) % len(keys)]
                t0 = time.perf_counter()
                for f in [pools[key].submit(fib, n) for _ in range(tasks)]:
                    f.result()
                best[key] = min(best[key], time.perf_counter() - t0)
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)
    return {key + "Speedup": serial / pooled for key, pooled in best.items()}


def peak_rss_mb():
    """Peak RSS of this process image. VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a
    script spawned by a large Node process would report the RSS of the fork it was exec'd from."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_memory(size, workers):
    base = peak_rss_mb()
    n = size["memoryTasks"]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(inc, i) for i in range(n)]
        for f in futures:
            f.result()
    return {"peakRssMb": peak_rss_mb(), "baseRssMb": base}


BENCHES = {
    "lock": lambda s, w: bench_lock(s),
    "event": lambda s, w: bench_event(s),
    "contended": lambda s, w: bench_contended(s),
    "thread": lambda s, w: bench_thread(s),
    "tpe": bench_tpe,
    "ppe": bench_ppe,
    "map": bench_map,
    "latency": bench_latency,
    "cpu": bench_cpu,
    "memory": bench_memory,
    **SHM_BENCHES,
}
BENCHES.update(__import__("processes").BENCHES)  # multiprocessing.Process (benchmarks/micro/process.ts)
BENCHES.update(__import__("queue_micro").BENCHES)  # queues and pipes (benchmarks/micro/queues.ts)


def sizes(quick):
    # Keep in step with benchmarks/micro/sizes.ts.
    full = {"lockOps": 2_000_000, "pingPongs": 20_000, "increments": 1_000_000, "threadStarts": 200,
            "threadTasks": 20_000, "processTasks": 10_000, "mapItems": 200_000, "latencyTasks": 2_000,
            "pyFib": 27, "cpuTasks": 8, "cpuRounds": 9, "memoryTasks": 100_000}
    if not quick:
        return full
    return {k: (v if k in ("pyFib", "cpuTasks", "cpuRounds", "memoryTasks") else max(1, v // 10)) for k, v in full.items()} | {"pyFib": 25, "cpuTasks": 4, "cpuRounds": 2}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default=",".join(BENCHES))
    options = parser.parse_args()
    size = sizes(options.quick)
    results = {}
    for name in options.only.split(","):
        results[name] = BENCHES[name](size, options.workers)
    emit({"results": results})


if __name__ == "__main__":
    main()
