/**
 * Messages on the IPC channel of a child threadkit forked, both ways. A child's channel is one of
 * two kinds, fixed when it is forked (its config says which, so both ends agree):
 *
 * - `'advanced'` (Node's structured-clone serialization; the default): every structured-cloneable
 *   value goes as it is. Each message costs a native serializer and a fresh buffer that the
 *   collector must finalize, on both sides — but large payloads go fast: bytes are copied as
 *   bytes.
 * - `'json'` (Node's JSON serialization): a message goes as it is when JSON carries it exactly,
 *   else as one string, its exact text form (`internal/transport/text.ts`: v8's serialization in
 *   base64). A string message goes as its text form too, so a string on such a channel always is
 *   one. Small messages cost far less; large ones far more (JSON text, base64, and Node's JSON
 *   channel reads big messages slowly).
 *
 * Measured on this project's machine, echoing through a process pool's child: a lone task's two
 * small messages took 37–63 µs of the parent's CPU and 40–91 µs of the child's with 'advanced',
 * 27–29 and 29–41 µs with 'json'; an argument of 1 MiB of bytes 14.6 ms with 'advanced' and 71.6 ms
 * with 'json', 8 MiB 68 and 586 ms. So the local pools keep 'advanced' (their users pass arrays and
 * buffers), and the distributed worker's pools use 'json': their tasks came out of Redis as text,
 * small by nature, and there the per-message cost was most of the hop.
 */
import { fromText, jsonExact, toText } from '../transport/text';

/** How a child's channel serializes messages (see the file's overview). */
export type ChannelKind = 'advanced' | 'json';

/**
 * A message in its form on a channel of `kind`.
 * @throws what v8.serialize throws for a value that cannot be sent (a function, a socket), on a
 *   'json' channel (an 'advanced' one throws the same from the send itself)
 */
export function toChannel(message: unknown, kind: ChannelKind): unknown {
  if (kind === 'advanced') return message;
  // A string goes as its text form too: a string on a 'json' channel always is one.
  return typeof message !== 'string' && jsonExact(message) ? message : toText(message);
}

/** A message received on a channel of `kind`, as it was sent. */
export function fromChannel(received: unknown, kind: ChannelKind): unknown {
  return kind === 'json' && typeof received === 'string' ? fromText(received) : received;
}
