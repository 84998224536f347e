import { type Job } from 'heygen-lib';
import { type TextOutput } from './logger.js';

const CLEAR_LINE = '\r\x1b[2K';

/**
 * On a terminal, one status line at the bottom showing every job's progress, kept below the log
 * lines; elsewhere it shows nothing and log lines pass through untouched.
 */
export class LiveDisplay {
  private readonly jobs = new Map<number, Job>();
  private line = '';
  readonly enabled: boolean;

  constructor(private readonly output: TextOutput) {
    this.enabled = Boolean(output.isTTY);
  }

  /** A stream for the logger: each log line is written above the status line. */
  get stream(): TextOutput {
    return {
      isTTY: this.output.isTTY,
      write: (chunk: string) =>
        this.output.write(this.enabled ? `${CLEAR_LINE}${chunk}${this.line}` : chunk),
    };
  }

  update(job: Job): void {
    if (!this.enabled) return;
    const known = this.jobs.get(job.id);
    if (known && known.revision >= job.revision) return;
    this.jobs.set(job.id, job);
    this.line = fit([...this.jobs.values()].map(describe).join('  '), this.output.columns);
    this.output.write(`${CLEAR_LINE}${this.line}`);
  }

  /** Leaves the terminal on a fresh line. */
  close(): void {
    if (this.enabled && this.line) this.output.write(`${CLEAR_LINE}`);
    this.line = '';
  }
}

/**
 * The line cut to the terminal's width, the latest jobs kept: a line that wraps is cleared only
 * on its last row, and the rows above it stay among the log lines.
 */
function fit(line: string, columns: number | undefined): string {
  // A terminal that reports no size (0 columns: a pty fed by a pipe) gets the whole line.
  if (!columns || line.length < columns) return line;
  return `…${line.slice(line.length - columns + 2)}`;
}

function describe(job: Job): string {
  const mark = { completed: '✓', failed: '✗', cancelled: '⊘', pending: '…', running: '' }[
    job.status
  ];
  const width = 10;
  const filled = Math.round((job.progress / 100) * width);
  return `#${job.id} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}]${mark}`;
}
