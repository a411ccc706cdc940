/**
 * What a distributed task looks like in Redis, written once for both sides: the executor that
 * submits it and the worker that runs it. Everything here rides on BullMQ: a task is one BullMQ
 * job, its result is that job's return value, and nothing else travels.
 *
 * ```
 * job name   the target's name (what a BullMQ dashboard shows)
 * job id     `<executor id>-<n>` (96 random bits in base64url, then a count), chosen by the
 *            executor so that it can match events to futures before `add` has even answered
 * job data   { v: 2, target: base64(v8.serialize(EncodedTarget)), call: text([args, chunk, timeout, retries]),
 *            sig: HMAC-SHA256 over both }
 * returns    { result: text(EncodedOutcome), sig: HMAC-SHA256 }
 * text(x)    'j' + JSON.stringify(x) when that is exact, else 'v' + base64(v8.serialize(x)) (internal/transport/text.ts)
 * ```
 *
 * Why two text forms: arguments and results are structured-cloneable values (Map, Date, BigInt,
 * typed arrays, `undefined`, `-0`), which JSON would corrupt, so v8.serialize (structured clone's
 * own format) carries them. But most calls and results are plain data (numbers, strings, arrays,
 * plain objects), which JSON carries exactly, several times cheaper to make and read than v8's
 * format (whose serializer costs microseconds per call even for one number) and a third smaller
 * than its base64: `jsonExact` (internal/transport/text.ts) decides, value by value, strictly. The target is serialized
 * once per function (a map over 10 000 items serializes its source once), and a worker
 * deserializes each distinct target once. A task's error travels as the transport's
 * encoded error record inside the outcome, so it arrives with its class, message, stack, own
 * properties and cause.
 *
 * Signatures. A task is code: Redis access alone must not be enough to run code on the workers.
 * Every task is signed with the secret that the executor and its workers share, and a worker
 * checks the signature before it even deserializes the task. The signed text names what it
 * signs (task or result), the queue and the job id, so that a signature cannot be moved to
 * another job or queue, nor a task signature passed off as a result. Results are signed too:
 * a forged result cannot reach the caller. What a signature cannot prevent: someone who can
 * write to Redis may re-add a task exactly as it was signed once (the same code with the same
 * arguments), under the same job id, once BullMQ has removed the original.
 */
import * as v8 from 'node:v8';
import type { EncodedOutcome, EncodedTarget } from '../internal/transport';
import { describe } from '../internal/validate';
import { HmacSha256, sameSignature } from '../internal/hmac-sha256';
import { fromText, toText } from '../internal/transport/text';

/** Queue name when none is given. */
export const DEFAULT_QUEUE = 'threadkit';
/** Redis when neither the option nor THREADKIT_REDIS says otherwise. */
export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
/** Environment variables read by the executor, the worker and the CLI. */
export const ENV_SECRET = 'THREADKIT_SECRET';
export const ENV_REDIS = 'THREADKIT_REDIS';

/** Version of the job format; a worker refuses a version it does not know. */
export const FORMAT_VERSION = 2;

/** One call of a task, as it travels beside its (separately serialized) target. */
export interface WireCall {
  /** Encoded arguments; for a chunk, each element is the single argument of one call. */
  readonly args: unknown[];
  /** A chunk of `map`: one call per element of `args`, the result is the array of their results. */
  readonly chunk: boolean;
  /** Milliseconds the worker waits for the task before failing it with TimeoutError. */
  readonly timeout: number | undefined;
  /** Re-runs allowed after a worker died while running it. */
  readonly retries: number;
}

/** A task as the worker receives it, once checked and deserialized. */
export interface WireTask extends WireCall {
  /** The function (by source) or module reference to run. */
  readonly target: EncodedTarget;
}

/** BullMQ job data of a task. */
export interface JobData {
  readonly v: number;
  readonly target: string;
  readonly call: string;
  readonly sig: string;
}

/** BullMQ return value of a task: its signed outcome. */
export interface JobResult {
  readonly result: string;
  readonly sig: string;
}

/**
 * How long BullMQ keeps a finished job (and its signed return value): long enough for an executor
 * that missed the job's event (held up while the event stream was trimmed) to look it up. Set on
 * the workers, which finish the jobs, rather than on every job: a job's own options travel and are
 * stored with it, the worker's do not.
 */
export const KEEP_COMPLETED = { age: 300, count: 50_000 } as const;
/** Failed jobs (refused, too many worker deaths) stay longer, for whoever inspects the queue. */
export const KEEP_FAILED = { age: 24 * 3600, count: 10_000 } as const;

/**
 * Prefixes of the reasons with which a worker fails a BullMQ job (the job's `failedReason`),
 * so the executor can give the caller the right error class. Every other outcome, a task's own
 * error included, is a completed job carrying the encoded error.
 */
export const REFUSED = 'threadkit: task refused: ';
export const DIED = 'threadkit: workers died: ';

/** The shared secret, from the option or the environment. @throws TypeError when there is none */
export function secretOption(value: unknown, who: string): string {
  const secret = value ?? process.env[ENV_SECRET];
  if (secret === undefined || secret === '') {
    throw new TypeError(
      `${who} needs a shared secret to sign tasks (a task is code: Redis access alone must not run it): ` +
        `set ${ENV_SECRET} to the same value for the executor and every worker, e.g. \`export ${ENV_SECRET}=$(openssl rand -hex 32)\`` +
        (who === 'DistributedExecutor' ? ', or pass `{ secret }`' : ''),
    );
  }
  if (typeof secret !== 'string') throw new TypeError(`Expected \`secret\` to be a string, got ${describe(secret)}`);
  return secret;
}

/** The queue name option. @throws TypeError for a non-string, an empty name or one with ':' (BullMQ's key separator) */
export function queueOption(value: unknown): string {
  if (value === undefined) return DEFAULT_QUEUE;
  if (typeof value !== 'string' || value === '' || value.includes(':')) {
    throw new TypeError(`Expected \`queue\` to be a non-empty string without ':', got ${describe(value)}`);
  }
  return value;
}

/** ioredis options of a Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS). */
export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  readonly tls?: object;
  readonly retryStrategy: (attempt: number) => number;
}

/**
 * Reconnection delay after the n-th failed attempt: quick at first (a restarting Redis is back
 * within a second), then every 2 s, forever. BullMQ's own default waits up to 20 s.
 */
function retryDelay(attempt: number): number {
  return Math.min(100 * attempt, 2000);
}

/** The Redis URL option (or THREADKIT_REDIS, or the local default) as connection options. @throws TypeError for anything but a redis: or rediss: URL */
export function connectionOption(value: unknown): { url: string; connection: RedisConnection } {
  const text = value ?? process.env[ENV_REDIS] ?? DEFAULT_REDIS;
  if (typeof text !== 'string') throw new TypeError(`Expected \`connection\` to be a Redis URL string, got ${describe(text)}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`Expected \`connection\` to be a Redis URL such as redis://host:6379, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new TypeError(`Expected \`connection\` to be a redis: or rediss: URL, got ${JSON.stringify(redacted(url))}`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  if (db !== undefined && (!Number.isInteger(db) || db < 0)) {
    throw new TypeError(`Expected the database of \`connection\` to be a whole number, got ${JSON.stringify(url.pathname.slice(1))}`);
  }
  const connection: RedisConnection = {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port === '' ? 6379 : Number(url.port),
    ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
    ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
    ...(db !== undefined && { db }),
    ...(url.protocol === 'rediss:' && { tls: {} }),
    retryStrategy: retryDelay,
  };
  return { url: redacted(url), connection };
}

/** The URL without its password, for messages and logs. */
function redacted(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

/**
 * A task's signature: over its queue, job id, target and call, fed as one string (each `update`
 * is a call into the native hash, which costs more than copying a target's text once).
 */
function taskSignature(secret: string, queue: string, jobId: string, target: string, call: string): string {
  return signer(secret).sign(`threadkit-task-v1\n${queue}\n${jobId}\n${target}\n${call}`);
}

/** A result's signature: over its queue, job id and outcome, labelled apart from tasks. */
function resultSignature(secret: string, queue: string, jobId: string, result: string): string {
  return signer(secret).sign(`threadkit-result-v1\n${queue}\n${jobId}\n${result}`);
}

/** The HMAC of a secret, made once (its padded key is prepared once: see hmac-sha256.ts). */
let lastSigner: { readonly secret: string; readonly hmac: HmacSha256 } | undefined;
function signer(secret: string): HmacSha256 {
  if (lastSigner?.secret !== secret) lastSigner = { secret, hmac: new HmacSha256(secret) };
  return lastSigner.hmac;
}

/** Serialized targets, by encoded target (encoded targets are made once per function and kept). */
const packedTargets = new WeakMap<EncodedTarget, string>();

/** A target in its job-data form, serialized once. */
function packTarget(target: EncodedTarget): string {
  let text = packedTargets.get(target);
  if (text === undefined) {
    text = v8.serialize(target).toString('base64');
    packedTargets.set(target, text);
  }
  return text;
}

/**
 * Serializes and signs a task for the job `jobId`.
 * @throws TypeError when something in it cannot be serialized (the message names the argument)
 */
export function packTask(secret: string, queue: string, jobId: string, target: EncodedTarget, call: WireCall): JobData {
  let callText: string;
  try {
    callText = toText([call.args, call.chunk, call.timeout ?? null, call.retries]);
  } catch (error) {
    throw new TypeError(`${culprit(call.args)} cannot be sent to another machine: ${(error as Error).message}`, { cause: error });
  }
  const targetText = packTarget(target);
  return { v: FORMAT_VERSION, target: targetText, call: callText, sig: taskSignature(secret, queue, jobId, targetText, callText) };
}

/** Which argument v8 refused ("argument 2"), found again one by one (only on the error path). */
function culprit(args: readonly unknown[]): string {
  for (let i = 0; i < args.length; i++) {
    try {
      v8.serialize(args[i]);
    } catch {
      return `argument ${i + 1}`;
    }
  }
  return 'the task';
}

/** Deserialized targets, by their text: a worker deserializes each distinct target once. */
const unpackedTargets = new Map<string, EncodedTarget>();
const MAX_UNPACKED_TARGETS = 1024;

function unpackTarget(text: string): EncodedTarget {
  let target = unpackedTargets.get(text);
  if (target === undefined) {
    target = v8.deserialize(Buffer.from(text, 'base64')) as EncodedTarget;
    // Bounded: a long-lived worker fed ever new functions must not grow without limit.
    if (unpackedTargets.size >= MAX_UNPACKED_TARGETS) unpackedTargets.clear();
    unpackedTargets.set(text, target);
  }
  return target;
}

/** A job's call, when the job is a task signed with `secret` for this queue and job id. */
function checkTask(secret: string, queue: string, jobId: string, data: unknown): WireCall | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { v, target, call, sig } = data as Partial<JobData>;
  if (v !== FORMAT_VERSION || typeof target !== 'string' || typeof call !== 'string') return undefined;
  if (!sameSignature(taskSignature(secret, queue, jobId, target, call), sig)) return undefined;
  return callOf(call);
}

/**
 * Checks and deserializes a job's task. Returns undefined when the job is not a task signed with
 * `secret` for this queue and job id: nothing of it is deserialized then.
 */
export function unpackTask(secret: string, queue: string, jobId: string, data: unknown): WireTask | undefined {
  const call = checkTask(secret, queue, jobId, data);
  if (call === undefined) return undefined;
  const { args, chunk, timeout, retries } = call;
  return { args, chunk, timeout, retries, target: unpackTarget((data as JobData).target) };
}

/**
 * A task's outcome in its text form. A value v8 cannot serialize (a host object, say) fails the
 * task with a TypeError instead.
 */
function packOutcome(outcome: EncodedOutcome, encodeFailure: (error: unknown) => EncodedOutcome): string {
  try {
    return toText(outcome);
  } catch (error) {
    return toText(encodeFailure(new TypeError(`the result cannot be sent to another machine: ${(error as Error).message}`)));
  }
}

/** Signs an outcome's text form as the job's return value. */
function signResult(secret: string, queue: string, jobId: string, text: string): JobResult {
  return { result: text, sig: resultSignature(secret, queue, jobId, text) };
}

/** Serializes and signs a task's outcome. */
export function packResult(secret: string, queue: string, jobId: string, outcome: EncodedOutcome, encodeFailure: (error: unknown) => EncodedOutcome): JobResult {
  return signResult(secret, queue, jobId, packOutcome(outcome, encodeFailure));
}

/** Checks and deserializes a job's result; undefined when it is not signed with `secret` for this job. */
export function unpackResult(secret: string, queue: string, jobId: string, value: unknown): EncodedOutcome | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { result, sig } = value as Partial<JobResult>;
  if (typeof result !== 'string') return undefined;
  if (!sameSignature(resultSignature(secret, queue, jobId, result), sig)) return undefined;
  return fromText(result) as EncodedOutcome;
}

/** A call's text form ({@link packTask}) read back. */
function callOf(text: string): WireCall {
  const [args, chunk, timeout, retries] = fromText(text) as [unknown[], boolean, number | null, number];
  return { args, chunk, timeout: timeout ?? undefined, retries };
}
