/**
 * The transport: how code and data go to another thread or process and how results come back.
 *
 * - {@link encodeTarget}: a function (by source) or a `fromModule` reference → {@link EncodedTarget}.
 * - {@link encodeArgs} / {@link decodeArgs}, {@link encodeValue} / {@link decodeValue}: values, with
 *   threadkit's shared objects turned into handles and revived over the same memory.
 * - {@link encodeError} / {@link decodeError}: thrown values, rebuilt with this realm's classes.
 * - {@link invoke}: runs an encoded target inside a worker or child (worker side).
 * - {@link workerEntry}: the file and exec arguments to start a worker entry of `internal/worker/`.
 *
 * Imported by path where they are needed: `call-site.ts` (where a task was submitted, shown under
 * the stack of an error it throws), `tsx.ts` (the optional TypeScript loader and the error that
 * says to install it) and `serializer.ts` (values as bytes in shared memory: queue items, batch
 * results, with the handles of shared objects inside).
 */
export { encodeTarget, type EncodedTarget } from './targets';
export { encodeArgs, encodeValue, decodeValue, decodeArgs, type EncodeOptions } from './values';
export { encodeError, decodeError, isError, type EncodedError } from './errors';
export { invoke, resolveTarget, resolveTargetSync, type EncodedOutcome } from './invoke';
export { workerEntry, type WorkerEntry } from './worker-entry';
