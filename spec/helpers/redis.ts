/**
 * A private redis-server for one spec file (or one benchmark run): started on a free port in a
 * temporary directory, stopped and its directory removed by `stop()`. Nothing is shared with a
 * Redis the machine may already run, so tests can flush, restart and kill it freely.
 *
 * `redis-server` must be installed (Debian: `apt-get install -y redis-server`; `.ci/run` does it).
 * A process-exit hook kills a server the test forgot to stop, so a failed run leaves none behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** How long redis-server may take to start or stop. */
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
/** Attempts to start on a fresh port (another process may take the free port we found first). */
const START_ATTEMPTS = 5;

/** Servers started by this process and not stopped yet: killed at exit whatever happens. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** True when a `redis-server` binary is on the PATH. */
export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A port no one listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port in a new temporary directory. */
  static async start(): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-redis-'));
    let lastError: unknown;
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const server = new RedisServer(await freePort(), dir);
      try {
        await server.restart();
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }

  /** Starts the server again on the same port and directory (after `kill()` or `shutdown()`). */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      // No persistence: a restart comes back empty, as a Redis without a disk would.
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    this.#child = child;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}) while starting: ${output.trim()}`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
      for (;;) {
        if (await Promise.race([this.#ping(), exited])) return;
        if (Date.now() > deadline) throw new Error(`redis-server did not answer within ${START_TIMEOUT_MS} ms: ${output.trim()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** True once the server answers PING. */
  #ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      socket.setTimeout(1000);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
  }

  /** Ends the server at once (SIGKILL) and waits for it to exit. */
  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  /** Stops the server (SIGTERM) and waits for it to exit. */
  shutdown(): Promise<void> {
    return this.#end('SIGTERM');
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
