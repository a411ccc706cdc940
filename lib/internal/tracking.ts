/**
 * The library's own census of the threads and processes it started, so that teardown code (and the
 * test suite's leak check) can tell what is still running and end it. Every place that creates a
 * Worker or a child process registers it here and unregisters it when it exits; so do the Redis
 * connections of threadkit/distributed, which keep a process alive as a worker would.
 *
 * Only live resources are kept; nothing here keeps a process alive.
 */

export type ResourceKind = 'thread' | 'pool-thread' | 'process' | 'connection';

export interface TrackedResource {
  readonly kind: ResourceKind;
  /** What started it, for leak reports ("Thread-3", "ProcessPoolExecutor child 1234"). */
  readonly label: string;
  /** True while it may end on its own without keeping the process alive (an idle warm worker). */
  idle: boolean;
  /** Ends it at once (Worker.terminate, SIGKILL). */
  kill(): void | Promise<unknown>;
}

const live = new Set<TrackedResource>();

/** Registers a started thread or process; call the returned function when it has exited. */
export function track(resource: TrackedResource): () => void {
  live.add(resource);
  return () => {
    live.delete(resource);
  };
}

/** Every resource the library started that has not exited yet. */
export function liveResources(): TrackedResource[] {
  return [...live];
}
