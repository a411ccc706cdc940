import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  decodeArgs, decodeError, decodeValue, encodeArgs, encodeError, encodeTarget, encodeValue, workerEntry,
  type EncodedOutcome, type EncodedTarget,
} from '../../../lib/internal/transport';
import { fromModule } from 'threadkit/target';
import * as errors from 'threadkit/errors';
import { Lock } from 'threadkit/threading/lock';

const FIXTURES = path.resolve(__dirname, '../../fixtures');
const DEADLINE_MS = 20_000;

/** One worker running spec/fixtures/transport-invoke-entry.ts: call(target, ...args) → outcome. */
let worker: Worker;
let nextId = 0;
const pending = new Map<number, (outcome: EncodedOutcome) => void>();

beforeAll(() => {
  worker = new Worker(path.join(FIXTURES, 'transport-invoke-entry.ts'), { execArgv: workerEntry('thread-entry').execArgv });
  worker.on('message', (msg: { id: number; outcome: EncodedOutcome }) => pending.get(msg.id)?.(msg.outcome));
  worker.on('error', (error) => {
    for (const resolve of pending.values()) resolve({ ok: false, error: encodeError(error) });
  });
});

afterAll(async () => {
  await worker.terminate();
});

function callRaw(target: EncodedTarget, args: unknown[]): Promise<EncodedOutcome> {
  const id = ++nextId;
  return new Promise<EncodedOutcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no outcome before the deadline')), DEADLINE_MS);
    pending.set(id, (outcome) => {
      clearTimeout(timer);
      pending.delete(id);
      resolve(outcome);
    });
    worker.postMessage({ id, target, args });
  });
}

/** Runs `target(...args)` in the worker; resolves with its value, rejects with its (decoded) error. */
async function call(target: unknown, ...args: unknown[]): Promise<unknown> {
  const outcome = await callRaw(encodeTarget(target), encodeArgs(args));
  if (outcome.ok) return decodeValue(outcome.value);
  throw decodeError(outcome.error);
}

/** What the target threw, as it arrived (fails when it returned). */
async function thrown(target: unknown, ...args: unknown[]): Promise<unknown> {
  const outcome = await callRaw(encodeTarget(target), encodeArgs(args));
  if (outcome.ok) throw new Error(`expected the target to throw, it returned ${String(outcome.value)}`);
  return decodeError(outcome.error);
}

/** A function made from source text, so that no compiler rewrites its body. */
function fromSource<F>(source: string): F {
  return new Function(`return (${source})`)() as F;
}

describe('function targets', () => {
  test('a sync function runs with its arguments and returns its value', async () => {
    expect(await call((a: number, b: number) => a + b, 2, 3)).toBe(5);
    expect(await call(function named(x: string) { return x.toUpperCase(); }, 'abc')).toBe('ABC');
  });

  test('an async function is awaited', async () => {
    expect(await call(async (x: number) => { await new Promise((r) => setImmediate(r)); return x * 2; }, 21)).toBe(42);
  });

  test('method shorthand, sync and async, runs as a function', async () => {
    const methods = {
      triple(x: number) { return 3 * x; },
      async half(x: number) { return x / 2; },
    };
    expect(await call(methods.triple, 3)).toBe(9);
    expect(await call(methods.half, 3)).toBe(1.5);
  });

  test('a target can require node built-ins', async () => {
    expect(await call(() => require('node:os').EOL)).toBe(require('node:os').EOL);
  });

  test('require of threadkit and its subpaths inside a target gets this library', async () => {
    expect(await call(() => typeof require('threadkit/threading').Lock)).toBe('function');
    expect(await call(() => require('threadkit').RuntimeError.name)).toBe('RuntimeError');
    expect(await call(() => new (require('threadkit/errors').ValueError)('x') instanceof RangeError)).toBe(true);
  });

  test('await import() inside a target works, compiled by TypeScript and as written', async () => {
    expect(await call(async () => typeof (await import('node:os')).cpus)).toBe('function');
    const raw = fromSource<() => Promise<string>>('async () => typeof (await import("node:path")).join');
    expect(await call(raw)).toBe('function');
    const href = pathToFileURL(path.join(FIXTURES, 'transport-add.mjs')).href;
    const esm = fromSource<(href: string) => Promise<number>>('async (href) => (await import(href)).add(20, 22)');
    expect(await call(esm, href)).toBe(42);
  });

  test('the helpers tsc and tsx insert into function bodies exist where targets run', async () => {
    const tsc = fromSource<() => string>(
      'function () { const p = __importDefault(require("node:path")); const ns = __importStar(require("node:path")); return p.default.join("a", ns.basename("/x/b")); }',
    );
    expect(await call(tsc)).toBe(path.join('a', 'b'));
    const tsx = fromSource<() => string>('() => { const inner = __name(function inner() { return 1; }, "renamed"); return inner.name; }');
    expect(await call(tsx)).toBe('renamed');
  });

  test('a captured variable surfaces as a ReferenceError with a hint', async () => {
    const captured = 5;
    const error = await thrown(() => captured * 2);
    expect(error).toBeInstanceOf(ReferenceError);
    expect((error as Error).message).toBe(
      'captured is not defined — targets run in another thread and cannot use variables of the enclosing scope: pass values as args, ' +
      'require() modules inside the target, or export the function from a module and pass fromModule(path, name)',
    );
    expect((error as Error).stack).toContain((error as Error).message);
  });

  test('an import renamed by tsx or tsc gets a hint to require() it inside the target or use fromModule, not to pass it', async () => {
    // What tsx (esbuild) and tsc make of `import { randomUUID } from 'node:crypto'` used in a function body.
    for (const [name, source] of [
      ['import_node_crypto', '() => (0, import_node_crypto.randomUUID)()'],
      ['node_crypto_1', 'function () { return (0, node_crypto_1.randomUUID)(); }'],
      ['crypto_1', 'function () { return crypto_1.default.randomUUID(); }'],
    ]) {
      const error = await thrown(fromSource<() => string>(source));
      expect(error).toBeInstanceOf(ReferenceError);
      const message = (error as Error).message;
      expect(message.startsWith(`${name} is not defined — it is an import of the file that defined the target`)).toBe(true);
      expect(message).toContain("require() the module inside the target (for instance const { randomUUID } = require('node:crypto'))");
      expect(message).toContain('fromModule(path, name)');
      expect(message).not.toContain('pass values as args');
    }
  });

  test('a compiler helper missing where the target runs gets a hint to use fromModule or a newer language target', async () => {
    const error = await thrown(fromSource<() => unknown>('function () { return __rest({ a: 1, b: 2 }, ["a"]); }'));
    expect((error as Error).message).toMatch(/^__rest is not defined — it is a helper that the compiler put into the target's code.*fromModule\(path, name\).*ES2022/);
  });

  test('a ReferenceError from a module the target called gets no hint', async () => {
    const file = path.join(FIXTURES, 'transport-undefined-name.js');
    const error = await thrown(fromSource<(file: string) => unknown>('(file) => require(file).useUndefined()'), file);
    expect(error).toBeInstanceOf(ReferenceError);
    expect((error as Error).message).toBe('nowhere is not defined');
  });

  test('native, bound and class targets are a TypeError naming the argument', () => {
    expect(() => encodeTarget(Math.max)).toThrow(TypeError);
    expect(() => encodeTarget(Math.max)).toThrow(/`target`.*native and bound functions have no source/);
    expect(() => encodeTarget(((x: number) => x).bind(null), 'fn')).toThrow(/`fn` cannot be sent/);
    expect(() => encodeTarget(class Task {})).toThrow(/`target` cannot be a class \(got class Task\)/);
    expect(() => encodeTarget(42)).toThrow('Expected `target` to be a function or a fromModule() reference, got number 42');
  });

  test('the same function is encoded once', () => {
    const fn = (x: number) => x;
    expect(encodeTarget(fn)).toBe(encodeTarget(fn));
  });
});

describe('module targets', () => {
  test('a CommonJS module: default export and a named export', async () => {
    const file = path.join(FIXTURES, 'transport-add.js');
    expect(await call(fromModule(file), 4)).toBe(8);
    expect(await call(fromModule(file, 'add'), 4, 5)).toBe(9);
  });

  test('an ES module by path and by file URL', async () => {
    const file = path.join(FIXTURES, 'transport-add.mjs');
    expect(await call(fromModule(file), 4)).toBe(8);
    expect(await call(fromModule(pathToFileURL(file), 'add'), 4, 5)).toBe(9);
  });

  test('a TypeScript module', async () => {
    const file = path.join(FIXTURES, 'transport-add.ts');
    expect(await call(fromModule(file), 4)).toBe(8);
    expect(await call(fromModule(file, 'sumPair'), { a: 1, b: 2 })).toBe(3);
  });

  test('a missing export is a TypeError from the target', async () => {
    const error = await thrown(fromModule(path.join(FIXTURES, 'transport-add.js'), 'nope'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/has no exported function "nope"/);
  });
});

describe('arguments', () => {
  test('primitives and plain data pass through unchanged and without copies', () => {
    const data = { a: [1, 2, { b: 'x' }], d: new Date(0), m: new Map([[1, 2]]), t: new Uint8Array(2) };
    const args = [1, 'two', null, undefined, data];
    expect(encodeArgs(args)).toBe(args);
  });

  test('shared objects nested in arrays and objects arrive as working instances over the same memory', async () => {
    const lock = new Lock();
    lock.acquireSync();
    try {
      const lockedElsewhere = await call(
        (arg: { list: Lock[]; deep: { lock: Lock } }) => [arg.list[0].locked(), arg.deep.lock.locked(), arg.list[0] === arg.deep.lock],
        { list: [lock], deep: { lock } },
      );
      expect(lockedElsewhere).toEqual([true, true, true]);
    } finally {
      lock.release();
    }
    // Decoded in this thread too, the handle is a Lock over the same word.
    const [again] = decodeArgs(encodeArgs([[lock]])) as [Lock[]];
    expect(again[0]).toBeInstanceOf(Lock);
    again[0].acquireSync();
    expect(lock.locked()).toBe(true);
    lock.release();
  });

  test('a shared object returned by a target arrives as a working instance', async () => {
    const lock = new Lock();
    const back = (await call((l: Lock) => { l.acquireSync(); return { l }; }, lock)) as { l: Lock };
    expect(back.l).toBeInstanceOf(Lock);
    expect(lock.locked()).toBe(true);
    back.l.release();
    expect(lock.locked()).toBe(false);
  });

  test('a function or a Symbol argument is a TypeError naming its position', () => {
    expect(() => encodeArgs([1, () => 0])).toThrow(TypeError);
    expect(() => encodeArgs([1, () => 0])).toThrow(/^argument 2 \(args\[1\]\) cannot be sent to another thread: functions cannot be cloned/);
    expect(() => encodeArgs([Symbol('s')])).toThrow(/^argument 1 \(args\[0\]\) cannot be sent to another thread: symbols cannot be cloned \(got Symbol\(s\)\)/);
    expect(() => encodeArgs([{ items: [0, { f: Math.max }] }])).toThrow(/^argument 1 \(args\[0\]\.items\[1\]\.f\) cannot be sent/);
    expect(() => encodeArgs([new WeakMap()])).toThrow(/^argument 1 \(args\[0\]\) cannot be sent to another thread: .*could not be cloned/);
  });

  test('a cyclic structure is accepted and keeps its cycle', () => {
    const node: { self?: unknown; lock?: Lock } = {};
    node.self = node;
    node.lock = new Lock();
    const [encoded] = encodeArgs([node]) as [{ self: unknown }];
    expect(encoded.self).toBe(encoded);
    const [decoded] = decodeArgs(structuredClone([encoded])) as [{ self: unknown; lock: Lock }];
    expect(decoded.self).toBe(decoded);
    expect(decoded.lock).toBeInstanceOf(Lock);
    const list: unknown[] = [1];
    list.push(list);
    expect(encodeArgs([list])[0]).toBe(list);
  });

  test('a shared object inside a Map is a TypeError', () => {
    expect(() => encodeArgs([new Map([['k', new Lock()]])])).toThrow(/shared objects inside a Map or Set cannot be sent/);
  });

  test('a threading object sent to another process is a TypeError naming the multiprocessing equivalent', () => {
    expect(() => encodeArgs([0, { lock: new Lock() }], { crossProcess: true })).toThrow(
      /^argument 2 \(args\[1\]\.lock\) cannot be sent to another process: threading\.Lock lives in this process's memory; use Lock from threadkit\/multiprocessing$/,
    );
    expect(() => encodeArgs([new SharedArrayBuffer(4)], { crossProcess: true })).toThrow(/cannot be sent to another process/);
    expect(encodeArgs([1, { a: 2 }], { crossProcess: true })).toEqual([1, { a: 2 }]);
  });

  test('encodeValue checks only when told what the value is', () => {
    const fn = () => 0;
    expect(encodeValue(fn)).toBe(fn);
    expect(() => encodeValue(fn, 'initarg 1')).toThrow(/^initarg 1 cannot be sent to another thread: functions cannot be cloned/);
  });
});

describe('errors', () => {
  const builtins = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError] as const;

  test.each(builtins.map((C) => [C.name, C] as const))('a thrown %s arrives as that class of this realm', async (name, Ctor) => {
    const error = await thrown((n: string) => { throw new (globalThis as unknown as Record<string, ErrorConstructor>)[n]('bad thing'); }, name);
    expect(error).toBeInstanceOf(Ctor);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe(name);
    expect((error as Error).message).toBe('bad thing');
    expect((error as Error).stack).toContain('threadkit-target:');
  });

  const threadkitClasses = Object.entries(errors) as [string, new (message?: string) => Error][];

  test.each(threadkitClasses)('a thrown threadkit %s arrives as that class', async (name, Ctor) => {
    const error = await thrown((n: string) => { throw new (require('threadkit/errors')[n])('rule broken'); }, name);
    expect(error).toBeInstanceOf(Ctor);
    expect((error as Error).name).toBe(name);
    expect((error as Error).message).toBe('rule broken');
  });

  test('own properties, the cause and an AggregateError\'s errors come along', async () => {
    const error = (await thrown(() => {
      const cause = Object.assign(new RangeError('inner'), { code: 'E_INNER' });
      throw Object.assign(new TypeError('outer', { cause }), { code: 'E_OUTER', errno: -2, details: { n: 1 } });
    })) as TypeError & { code: string; errno: number; details: unknown; cause: RangeError & { code: string } };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('E_OUTER');
    expect(error.errno).toBe(-2);
    expect(error.details).toEqual({ n: 1 });
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.cause.code).toBe('E_INNER');

    const aggregate = (await thrown(() => { throw new AggregateError([new TypeError('a'), 7], 'many'); })) as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.message).toBe('many');
    expect(aggregate.errors[0]).toBeInstanceOf(TypeError);
    expect(aggregate.errors[1]).toBe(7);
  });

  test('an error of another class arrives as its nearest known class with its name kept', async () => {
    const plain = (await thrown(() => {
      class HttpError extends Error { constructor() { super('teapot'); this.name = 'HttpError'; } }
      throw new HttpError();
    })) as Error;
    expect(plain).toBeInstanceOf(Error);
    expect(plain.name).toBe('HttpError');
    expect(plain.message).toBe('teapot');
    const typed = (await thrown(() => {
      class BadInput extends TypeError { constructor() { super('nope'); this.name = 'BadInput'; } }
      throw new BadInput();
    })) as Error;
    expect(typed).toBeInstanceOf(TypeError);
    expect(typed.name).toBe('BadInput');
  });

  test.each([
    ['undefined', undefined],
    ['0', 0],
    ['a string', 'str'],
    ['an object', { reason: 'x', list: [1] }],
    ['null', null],
  ] as const)('a thrown non-Error value (%s) arrives as it was', async (_label, value) => {
    const outcome = await callRaw(encodeTarget((v: unknown) => { throw v; }), encodeArgs([value]));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(decodeError(outcome.error)).toEqual(value);
  });

  test('a thrown value that cannot be sent becomes a TypeError saying so', () => {
    const decoded = decodeError(encodeError(() => 0)) as Error;
    expect(decoded).toBeInstanceOf(TypeError);
    expect(decoded.message).toMatch(/the thrown value cannot be sent to another thread/);
  });

  test('errors of another realm are rebuilt with this realm\'s classes', () => {
    const foreign = new (require('node:vm').runInNewContext('RangeError'))('elsewhere');
    expect(foreign).not.toBeInstanceOf(RangeError);
    const rebuilt = decodeError(encodeError(foreign));
    expect(rebuilt).toBeInstanceOf(RangeError);
    expect((rebuilt as Error).message).toBe('elsewhere');
  });
});
