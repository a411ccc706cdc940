"""The CPython side of the Process micro benchmarks (benchmarks/micro/process.ts), registered in
micro.py's BENCHES as "process": multiprocessing.Process start->join, and many processes started at
once then all joined, with the "fork" start method (CPython 3.11's default on Linux: no new
interpreter, the child is a copy of the parent) and with "spawn" (a fresh interpreter, as every
Node.js child is).
"""
import multiprocessing
import statistics
import time


def noop():
    pass


def sizes(size):
    # micro.py's --quick divides threadStarts (200) by ten.
    quick = size["threadStarts"] < 200
    return {"starts": 5 if quick else 20, "many": 20 if quick else 100}


def bench_process(size, workers):
    n = sizes(size)
    out = {"many": n["many"]}
    for method in ("fork", "spawn"):
        ctx = multiprocessing.get_context(method)
        times = []
        for _ in range(n["starts"] + 1):
            t0 = time.perf_counter()
            p = ctx.Process(target=noop)
            p.start()
            p.join()
            times.append((time.perf_counter() - t0) * 1000)
        out[method + "StartJoinMs"] = statistics.median(times[1:])  # the first one warms up
        t0 = time.perf_counter()
        procs = [ctx.Process(target=noop) for _ in range(n["many"])]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        out[method + "ManyMs"] = (time.perf_counter() - t0) * 1000
        assert all(p.exitcode == 0 for p in procs)
    return out


BENCHES = {"process": bench_process}
