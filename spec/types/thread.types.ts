/**
 * Thread's `args` must fit its `target`'s parameters (lib/target.ts, TargetOptions). Checked by
 * `npm run typecheck`; never run.
 */
import { fromModule, type TargetOptions } from 'threadkit';
import { Lock, Thread } from 'threadkit/threading';

declare const lock: Lock;

export function fitting(): Thread[] {
  const work = (l: Lock, n: number): void => void [l, n];
  return [
    new Thread({ target: work, args: [lock, 3] }),
    new Thread({ target: () => 1 }),
    new Thread({ target: (n?: number) => n }),
    new Thread({ target: (...xs: number[]) => xs.length, args: [1, 2, 3] }),
    new Thread({ target: fromModule<[number]>('/abs/task.js', 'task'), args: [1] }),
    new Thread({ target: fromModule('/abs/task.js'), args: ['anything', 1] }),
    new Thread({ name: 'no target', daemon: true }),
    new Thread(),
  ];
}

export function subclasses(): Thread {
  class Worker extends Thread {
    override run(): void {}
  }
  return new Worker({ name: 'w' });
}

/** The same option type serves whoever runs a target with its arguments. */
export function reusable<A extends any[]>(options: TargetOptions<A>): TargetOptions<A> {
  return options;
}
reusable({ target: (n: number) => n, args: [1] });

export function mistakes(): void {
  // @ts-expect-error an argument of the wrong type
  new Thread({ target: (n: number) => n, args: ['1'] });
  // @ts-expect-error the target needs arguments and none are given
  new Thread({ target: (n: number) => n });
  // @ts-expect-error too few arguments
  new Thread({ target: (a: number, b: number) => a + b, args: [1] });
  // @ts-expect-error too many arguments
  new Thread({ target: () => 1, args: [1] });
  // @ts-expect-error a module reference checks its declared arguments
  new Thread({ target: fromModule<[number]>('/abs/task.js'), args: ['x'] });
  // @ts-expect-error reusable options check the same way
  reusable({ target: (n: number) => n, args: ['x'] });
}
