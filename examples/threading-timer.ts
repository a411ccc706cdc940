/**
 * Seed 001, section 16 "定时器" (Timer): run something after a delay, without blocking as sleep would.
 *
 *   npx tsx examples/threading-timer.ts
 *
 * Timer(1000, hello) runs hello() in a new thread one second from now; the main thread goes on at
 * once. A second timer is cancelled before it fires and never runs.
 */
import { Timer } from 'threadkit/threading';

function hello(): void {
  console.log('hello, world');
}

const t = new Timer(1000, hello); // after one second, run hello
t.start();
console.log('timer started; the main thread is not blocked');

const never = new Timer(5000, () => console.log('this never prints'));
never.start();
never.cancel(); // still waiting, so it stops here
console.log('second timer cancelled');
