/**
 * `threadkit/distributed` — an executor whose workers run on other machines, over BullMQ on Redis
 * (Python's analogue: dask's `Client`, a `concurrent.futures.Executor` too). Not re-exported from
 * `threadkit`: importing it loads bullmq and ioredis.
 *
 * - {@link DistributedExecutor}: submit and map as with the local executors; each task is a BullMQ
 *   job, signed with a secret shared with the workers.
 * - {@link runWorker}: serves the queue on a machine, running the tasks in a local pool of
 *   processes or threads; `npx threadkit worker` runs it from a shell.
 *
 * The three ends share the Redis URL (`THREADKIT_REDIS`), the queue name and the secret
 * (`THREADKIT_SECRET`, required: a task is code, and Redis access alone must not run it).
 */
export { DistributedExecutor, type DistributedExecutorOptions } from './distributed-executor';
export { runWorker, type RunWorkerOptions } from './worker';
