// Progress on stderr for long work. On a terminal: one status line redrawn in place (counts, rate,
// elapsed), at most 10 times a second, and a final line per phase. Not a terminal (a CI log, a pipe):
// one line per phase when it ends, plus one per retry. With --json: nothing.
import { formatDuration, formatRate, humanBytes } from '../format.js';
import type { OnProgress, ProgressEvent } from '../progress.js';
import { type CliStream, session } from './output.js';

interface Phase {
  readonly name: string;
  readonly started: number;
  done?: number;
  total?: number;
  unit?: string;
  drawn: number;
}

export class ProgressReporter {
  private phase: Phase | undefined;
  private shown = false;

  constructor(
    private readonly stream: CliStream,
    private readonly tty: boolean,
    private readonly quiet: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  readonly onProgress: OnProgress = (event) => this.event(event);

  event(event: ProgressEvent): void {
    if (this.quiet) return;
    if (event.retry) {
      this.clear();
      const { attempt, reason, waitMs } = event.retry;
      this.stream.write(`witness: ${event.phase}: ${reason}; retry ${attempt} in ${formatDuration(waitMs / 1000)}\n`);
      this.draw(true);
      return;
    }
    if (this.phase?.name !== event.phase) {
      this.endPhase();
      this.phase = { name: event.phase, started: this.now(), drawn: 0 };
    }
    const phase = this.phase!;
    if (event.done !== undefined) phase.done = event.done;
    if (event.total !== undefined) phase.total = event.total;
    if (event.unit !== undefined) phase.unit = event.unit;
    this.draw(false);
  }

  /** A line of its own (e.g. a make.bash phase). */
  line(message: string): void {
    if (this.quiet) return;
    this.clear();
    this.stream.write(`${message}\n`);
    this.draw(true);
  }

  /** Ends the current phase (its final line); called before a command prints its result. */
  finish(): void {
    this.endPhase();
  }

  private counts(phase: Phase, elapsed: number): string {
    if (phase.done === undefined) return '';
    const unit = phase.unit ?? 'items';
    const amount = (n: number) => (unit === 'bytes' ? humanBytes(n) : `${n.toLocaleString('en-US')}`);
    const of = phase.total !== undefined ? ` of ${amount(phase.total)}` : '';
    const rate = elapsed >= 0.5 ? formatRate(phase.done, elapsed, unit) : '';
    const counted = phase.done === 1 && phase.total === undefined ? unit.replace(/ies$/, 'y').replace(/s$/, '') : unit;
    return `${amount(phase.done)}${of}${unit === 'bytes' ? '' : ` ${counted}`}${rate ? `, ${rate}` : ''}`;
  }

  private draw(force: boolean): void {
    const phase = this.phase;
    if (!this.tty || !phase) return;
    const at = this.now();
    if (!force && at - phase.drawn < 100) return;
    phase.drawn = at;
    const elapsed = (at - phase.started) / 1000;
    const counts = this.counts(phase, elapsed);
    this.stream.write(`\r\x1b[K${phase.name}${counts ? `: ${counts}` : ''} (${formatDuration(elapsed)})`);
    this.shown = true;
  }

  private clear(): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  private endPhase(): void {
    const phase = this.phase;
    if (!phase) return;
    this.phase = undefined;
    this.clear();
    const elapsed = (this.now() - phase.started) / 1000;
    const counts = this.counts({ ...phase, total: undefined }, elapsed);
    this.stream.write(`witness: ${phase.name}${counts ? `: ${counts}` : ''} in ${formatDuration(elapsed)}\n`);
  }
}

/** The current command's reporter (quiet with --json). */
export function progress(): ProgressReporter {
  const current = session();
  return (current.progress ??= new ProgressReporter(current.io.stderr, current.io.stderr.isTTY === true, current.json)) as ProgressReporter;
}

export function finishProgress(): void {
  session().progress?.finish();
}
