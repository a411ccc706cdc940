/**
 * Seed 001, section 11 "协程" (coroutines): concurrency inside one thread, switched by the program
 * itself. The seed shows greenlet (explicit `switch()`), gevent (`spawn`, `gevent.sleep`, `joinall`:
 * switch on every wait) and gevent's `monkey.patch_all()` (make blocking calls switch too). In Node
 * these are the language itself:
 *
 * - greenlet's explicit switch is a generator: `yield` hands control back, `next()` resumes it;
 * - gevent's spawn/sleep/joinall are async functions, `await`, and `Promise.all` on the event loop,
 *   which switches at every `await`;
 * - monkey-patching is not needed: Node's own IO (sockets, files, timers, `fetch`) never blocks the
 *   event loop. What still blocks it is a *synchronous* call (`fs.readFileSync`, `execFileSync`,
 *   `Atomics.wait`, a long computation): while it runs no coroutine of this thread moves. That is where
 *   a thread is still needed: the blocking call goes to a ThreadPoolExecutor and the coroutine awaits it;
 * - and gevent's typical job, many downloads at once on one thread, is `Promise.all` over `fetch`.
 *
 *   npx tsx examples/coroutines.ts
 *
 * Sleeps are shorter than in the seed (200 and 100 ms instead of 2 and 1 s).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Event, currentThread, sleep } from 'threadkit/threading';
import { ThreadPoolExecutor } from 'threadkit/futures';

/** greenlet: each coroutine says whom to switch to next by yielding that one's name. */
function greenlets(): void {
  console.log('greenlet: explicit switches (a generator is a coroutine that yields control)');
  function* eat(name: string): Generator<'play', void> {
    console.log(`${name} eat 1`);
    yield 'play'; // g2.switch('egon')
    console.log(`${name} eat 2`);
    yield 'play'; // g2.switch()
  }
  function* play(name: string): Generator<'eat', void> {
    console.log(`${name} play 1`);
    yield 'eat'; // g1.switch()
    console.log(`${name} play 2`);
  }
  const coroutines = { eat: eat('egon'), play: play('egon') };
  // g1.switch('egon'): run `eat`; each switch resumes the one named; when a coroutine ends, control
  // returns to the parent (here), as in greenlet — `eat` stays suspended after its last switch.
  let current: keyof typeof coroutines | undefined = 'eat';
  while (current !== undefined) {
    const step: IteratorResult<keyof typeof coroutines, void> = coroutines[current].next();
    current = step.done ? undefined : step.value;
  }
}

/** gevent: spawn two coroutines that sleep; the loop switches to whichever can go on. */
async function gevents(): Promise<void> {
  console.log('gevent: spawn, sleep, joinall (async functions on one event loop)');
  async function eat(name: string): Promise<void> {
    console.log(`${name} eat 1`);
    await sleep(200); // gevent.sleep(2): a wait, so the loop switches
    console.log(`${name} eat 2`);
  }
  async function play(name: string): Promise<void> {
    console.log(`${name} play 1`);
    await sleep(100);
    console.log(`${name} play 2`);
  }
  await Promise.all([eat('egon'), play('egon')]); // gevent.joinall([g1, g2])
  console.log('main');
}

/**
 * monkey.patch_all(): a blocking call stops every coroutine of its thread. A "ticker" coroutine sets
 * an event after three ticks of 10 ms. A blocking wait for that event on the event loop never sees it
 * (the ticker cannot run while the loop is blocked) and times out. The same blocking wait done by a
 * worker thread, which the coroutine awaits, leaves the loop free: the ticker runs and ends the wait.
 */
async function blockingCalls(): Promise<void> {
  console.log('monkey.patch_all: nothing to patch (Node IO never blocks the loop), but a blocking call still does');
  /** Ticks three times (after `start` resolves), then sets `event`. */
  const ticker = (event: Event, start: Promise<unknown> = Promise.resolve()): { ticks: () => number; done: Promise<void> } => {
    let ticks = 0;
    const done = (async () => {
      await start;
      for (; ticks < 3; ticks++) await sleep(10);
      event.set();
    })();
    return { ticks: () => ticks, done };
  };

  const onLoop = new Event();
  const first = ticker(onLoop);
  const t0 = performance.now();
  const setInTime = onLoop.waitSync(200); // blocks this thread, and so the ticker
  console.log(`blocking wait on the event loop: ${setInTime ? 'set' : `timed out after ${Math.round(performance.now() - t0)} ms`}; ` +
    `the coroutine that would have set it ticked ${first.ticks()} times meanwhile`);
  await first.done;

  const onThread = new Event();
  const waiting = new Event();
  const second = ticker(onThread, waiting.wait());
  const executor = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const set = await executor.submit((started: Event, event: Event) => {
      started.set();
      return event.waitSync(10_000); // the same blocking wait, on a worker thread
    }, waiting, onThread);
    await second.done;
    console.log(`the same wait on a worker thread: ${set ? 'set' : 'timed out'}, by the coroutine after ${second.ticks()} ticks while the thread was blocked`);
  } finally {
    await executor.shutdown();
  }
}

/** gevent's use: many downloads at once, on one thread. */
async function downloads(): Promise<void> {
  console.log('many concurrent downloads on one thread (fetch and Promise.all)');
  const PAGES = 20;
  const PAGE_BYTES = 1000;
  // A local server that answers only once every download has started, so the count it reports is
  // the number of downloads that were open at the same time.
  let open = 0;
  let most = 0;
  const waiting: Array<() => void> = [];
  const server = http.createServer((_req, res) => {
    most = Math.max(most, ++open);
    waiting.push(() => {
      open--;
      res.end('x'.repeat(PAGE_BYTES));
    });
    if (waiting.length === PAGES) for (const answer of waiting.splice(0)) answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const t0 = performance.now();
    const pages = await Promise.all(Array.from({ length: PAGES }, (_, i) => fetch(`http://127.0.0.1:${port}/page/${i}`).then((r) => r.text())));
    const ms = performance.now() - t0;
    const bytes = new Set(pages.map((p) => p.length));
    console.log(`${pages.length} downloads, all open at once (the server saw ${most}), ${pages.length} pages of ${[...bytes].join('/')} bytes, ` +
      `in ${Math.round(ms)} ms on thread ${currentThread().name}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function main(): Promise<void> {
  greenlets();
  await gevents();
  await blockingCalls();
  await downloads();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
