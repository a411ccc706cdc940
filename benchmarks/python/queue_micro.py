"""The CPython side of benchmarks/micro/queues.ts: queue.Queue between two threads (throughput and
round trip), multiprocessing.Queue and Pipe round trips between two processes, and
multiprocessing.Queue throughput of 1 KiB and 1 MiB items. Registered in micro.py's BENCHES;
sizes scale with micro.py's (a tenth with --quick), as queues.ts's do.
"""
import multiprocessing as mp
import queue
import threading
import time


def _scale(size):
    return size["pingPongs"] / 20_000


def bench_queue_threads(size):
    n = int(200_000 * _scale(size))
    q = queue.Queue()
    done = threading.Event()

    def consume():
        get = q.get
        for _ in range(n):
            get()
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    put = q.put
    t0 = time.perf_counter()
    for i in range(n):
        put(i)
    done.wait()
    elapsed = time.perf_counter() - t0
    t.join()
    return {"itemsPerSecond": n / elapsed}


def bench_queue_thread_rtt(size):
    n = int(20_000 * _scale(size))
    ping, pong = queue.Queue(), queue.Queue()

    def echo():
        for _ in range(n + 100):
            pong.put(ping.get())

    t = threading.Thread(target=echo)
    t.start()
    for i in range(100):
        ping.put(i)
        pong.get()
    t0 = time.perf_counter()
    for i in range(n):
        ping.put(i)
        pong.get()
    elapsed = time.perf_counter() - t0
    t.join()
    return {"usPerRoundTrip": elapsed * 1e6 / n}


def _queue_echo(ping, pong, n):
    for _ in range(n):
        pong.put(ping.get())


def bench_mp_queue_rtt(size):
    n = int(5_000 * _scale(size))
    warm = 100
    ping, pong = mp.Queue(), mp.Queue()
    p = mp.Process(target=_queue_echo, args=(ping, pong, n + warm))
    p.start()
    for i in range(warm):
        ping.put(i)
        pong.get()
    t0 = time.perf_counter()
    for i in range(n):
        ping.put(i)
        pong.get()
    elapsed = time.perf_counter() - t0
    p.join()
    return {"usPerRoundTrip": elapsed * 1e6 / n}


def _pipe_echo(conn, n):
    for _ in range(n):
        conn.send(conn.recv())


def bench_pipe_rtt(size):
    n = int(5_000 * _scale(size))
    warm = 100
    a, b = mp.Pipe()
    p = mp.Process(target=_pipe_echo, args=(b, n + warm))
    p.start()
    for i in range(warm):
        a.send(i)
        a.recv()
    t0 = time.perf_counter()
    for i in range(n):
        a.send(i)
        a.recv()
    elapsed = time.perf_counter() - t0
    p.join()
    return {"usPerRoundTrip": elapsed * 1e6 / n}


def _drain(q, n, ready, done):
    ready.set()
    for _ in range(2):
        for _ in range(n):
            q.get()
        done.set()


def _mp_queue_bytes(nbytes, n):
    q = mp.Queue()
    ready, done = mp.Event(), mp.Event()
    p = mp.Process(target=_drain, args=(q, n, ready, done))
    p.start()
    ready.wait()
    item = b"x" * nbytes
    for _ in range(n):  # a first round, untimed, as queues.ts does
        q.put(item)
    done.wait()
    done.clear()
    t0 = time.perf_counter()
    for _ in range(n):
        q.put(item)
    done.wait()
    elapsed = time.perf_counter() - t0
    p.join()
    return {"itemsPerSecond": n / elapsed, "mbPerSecond": n * nbytes / elapsed / 1e6}


def bench_mp_queue_kib(size):
    return _mp_queue_bytes(1024, int(50_000 * _scale(size)))


def bench_mp_queue_mib(size):
    return _mp_queue_bytes(1 << 20, max(10, int(500 * _scale(size))))


BENCHES = {
    "queue_threads": lambda s, w: bench_queue_threads(s),
    "queue_thread_rtt": lambda s, w: bench_queue_thread_rtt(s),
    "mp_queue_rtt": lambda s, w: bench_mp_queue_rtt(s),
    "pipe_rtt": lambda s, w: bench_pipe_rtt(s),
    "mp_queue_kib": lambda s, w: bench_mp_queue_kib(s),
    "mp_queue_mib": lambda s, w: bench_mp_queue_mib(s),
}
