import { describe, expect, it } from 'vitest';
import { type Job } from 'heygen-lib';
import { LiveDisplay } from './live-display.js';

const jobStub = (
  id: number,
  progress: number,
  revision: number,
  status: Job['status'] = 'running',
): Job => ({
  id,
  status,
  progress,
  revision,
  duration: 1000,
  createdAt: '2026-11-23T18:00:00.000Z',
  updatedAt: '2026-11-23T18:00:00.000Z',
  expectedAt: '2026-11-23T18:00:01.000Z',
});

function terminal(isTTY: boolean, columns?: number) {
  let text = '';
  const write = (chunk: string) => (text += chunk);
  return { output: { isTTY, columns, write }, text: () => text };
}

describe(LiveDisplay.name, () => {
  it('should redraw one status line with every job, keeping log lines above it', () => {
    const { output, text } = terminal(true);
    const sut = new LiveDisplay(output);
    sut.update(jobStub(1, 50, 3));
    sut.update(jobStub(2, 0, 1, 'pending'));
    sut.stream.write('a log line\n');
    expect(text().split('\r\x1b[2K').at(-1)).toBe('a log line\n#1 [█████░░░░░]  #2 [░░░░░░░░░░]…');
  });

  it("should keep the line within the terminal's width, the latest jobs shown (review of 2026-12-01)", () => {
    const { output, text } = terminal(true, 40);
    const sut = new LiveDisplay(output);
    for (let id = 1; id <= 5; id++) sut.update(jobStub(id, 50, 3));
    const line = text().split('\r\x1b[2K').at(-1)!;
    expect(line.length).toBeLessThan(40);
    expect(line).toMatch(/^….*#5 \[█████░░░░░\]$/);
  });

  it('should show the whole line on a terminal that reports no width (review of 2026-12-01)', () => {
    const { output, text } = terminal(true, 0);
    const sut = new LiveDisplay(output);
    sut.update(jobStub(1, 50, 3));
    // It showed "…" alone.
    expect(text().split('\r\x1b[2K').at(-1)).toBe('#1 [█████░░░░░]');
  });

  it('should ignore an older copy of a job', () => {
    const { output, text } = terminal(true);
    const sut = new LiveDisplay(output);
    sut.update(jobStub(1, 100, 5, 'completed'));
    sut.update(jobStub(1, 40, 4));
    expect(text().split('\r\x1b[2K').at(-1)).toBe('#1 [██████████]✓');
  });

  it('should show nothing and pass log lines through untouched when not on a terminal', () => {
    const { output, text } = terminal(false);
    const sut = new LiveDisplay(output);
    sut.update(jobStub(1, 50, 3));
    sut.stream.write('plain\n');
    sut.close();
    expect(text()).toBe('plain\n');
  });
});
