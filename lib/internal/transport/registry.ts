/**
 * Which module defines each shareable tag. A worker that receives a handle loads the class's module
 * on demand (which registers its reviver), so worker entries need not import every public module.
 * Add a line here for each new shareable class.
 */
import { reviverOf, type Reviver } from './shareable';

const modules: Readonly<Record<string, string>> = {
  'threading.Lock': '../../threading/lock',
  'threading.RLock': '../../threading/rlock',
  'threading.Condition': '../../threading/condition',
  'threading.Semaphore': '../../threading/semaphore',
  'threading.BoundedSemaphore': '../../threading/semaphore',
  'threading.Event': '../../threading/event',
  'threading.Barrier': '../../threading/barrier',
  'multiprocessing.Lock': '../../multiprocessing/synchronize',
  'multiprocessing.RLock': '../../multiprocessing/synchronize',
  'multiprocessing.Condition': '../../multiprocessing/synchronize',
  'multiprocessing.Semaphore': '../../multiprocessing/synchronize',
  'multiprocessing.BoundedSemaphore': '../../multiprocessing/synchronize',
  'multiprocessing.Event': '../../multiprocessing/synchronize',
  'multiprocessing.Barrier': '../../multiprocessing/synchronize',
  'multiprocessing.Value': '../../multiprocessing/sharedctypes',
  'multiprocessing.Array': '../../multiprocessing/sharedctypes',
  'queue.Queue': '../../queue/queue',
  'queue.LifoQueue': '../../queue/queue',
  'queue.PriorityQueue': '../../queue/queue',
  'queue.SimpleQueue': '../../queue/simple-queue',
  'multiprocessing.Queue': '../../multiprocessing/queues',
  'multiprocessing.JoinableQueue': '../../multiprocessing/queues',
  'multiprocessing.SimpleQueue': '../../multiprocessing/queues',
  'multiprocessing.Connection': '../../multiprocessing/connection',
};

/** The reviver of `tag`, loading the module that defines it when needed. */
export function loadReviver(tag: string): Reviver {
  let revive = reviverOf(tag);
  if (revive === undefined && Object.prototype.hasOwnProperty.call(modules, tag)) {
    require(modules[tag]);
    revive = reviverOf(tag);
  }
  if (revive === undefined) throw new TypeError(`Invalid handle: unknown shareable tag ${JSON.stringify(tag)}`);
  return revive;
}
