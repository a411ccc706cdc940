/**
 * Messages on the IPC channel of a child threadkit forked, both ways. The channel uses Node's
 * `'json'` serialization, and a message goes as it is when JSON carries it exactly (the protocol's
 * own messages nearly always: ids, numbers, strings, plain records), else as one string, its
 * exact text form (`internal/transport/text.ts`: v8's serialization in base64). A string message
 * goes as its text form too, so a string on the channel always is one.
 *
 * Why not Node's `'advanced'` serialization, which would carry every structured-cloneable value
 * as it is: it makes a native serializer, and a fresh buffer that the collector must finalize, for
 * every message on both sides. A lone task of a process pool is two small messages, and there
 * that cost was most of the messaging: a ping-pong of the pool's message shapes took 40–57 µs of
 * the parent's CPU and 40–60 µs of the child's per round trip with 'advanced', 29–41 and 26–34 µs
 * with 'json' (70–92 µs against 47–59 µs of wall time). Values JSON cannot carry keep v8's fidelity
 * at the price of base64 (a third larger), which matters only for large binary payloads.
 */
import { fromText, jsonExact, toText } from '../transport/text';

/** The serialization the channel is opened with (spawn.ts). */
export const CHANNEL_SERIALIZATION = 'json';

/**
 * A message in its channel form.
 * @throws what v8.serialize throws for a value that cannot be sent (a function, a socket)
 */
export function toChannel(message: unknown): unknown {
  // A string goes as its text form too: a string on the channel always is one.
  return typeof message !== 'string' && jsonExact(message) ? message : toText(message);
}

/** A message received on the channel, as it was sent. */
export function fromChannel(received: unknown): unknown {
  return typeof received === 'string' ? fromText(received) : received;
}
