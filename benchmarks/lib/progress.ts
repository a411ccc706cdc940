/**
 * Progress on stderr: a bar redrawn in place when stderr is a terminal, plain lines otherwise
 * (CI logs, pipes, the test), so nothing but results ever reaches stdout.
 */
const BAR_WIDTH = 28;

export class Progress {
  readonly #tty: boolean;
  #total: number;
  #done = 0;
  /** True while a bar is drawn on the current line (it must be erased before other output). */
  #drawn = false;
  #current = '';

  constructor(total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.#total = Math.max(1, total);
    this.#tty = Boolean(stream.isTTY);
  }

  /** Adds work discovered later (e.g. repetitions), so the bar never passes 100 %. */
  grow(steps: number): void {
    this.#total += steps;
  }

  /** The last label shown: what the run was doing. */
  get current(): string {
    return this.#current;
  }

  /** Marks one step done; `label` says what just finished (or what starts now). */
  step(label: string): void {
    this.#done = Math.min(this.#total, this.#done + 1);
    this.#show(label);
  }

  /** Says what is running now, without counting a step. */
  status(label: string): void {
    this.#show(label);
  }

  /** Prints a line of its own (a note, a warning) without tearing the bar. */
  note(line: string): void {
    this.#erase();
    process.stderr.write(`${line}\n`);
  }

  /** Removes the bar. */
  end(): void {
    this.#erase();
  }

  #show(label: string): void {
    this.#current = label;
    const pct = Math.floor((this.#done / this.#total) * 100);
    if (!this.#tty) {
      process.stderr.write(`[${String(pct).padStart(3)}%] ${label}\n`);
      return;
    }
    const filled = Math.round((this.#done / this.#total) * BAR_WIDTH);
    const columns = process.stderr.columns || 100;
    const line = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${String(pct).padStart(3)}% ${label}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
    this.#drawn = true;
  }

  #erase(): void {
    if (this.#drawn) process.stderr.write('\r\x1b[2K');
    this.#drawn = false;
  }
}
