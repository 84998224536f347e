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

function terminal(isTTY: boolean) {
  let text = '';
  return { output: { isTTY, write: (chunk: string) => (text += chunk) }, text: () => text };
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
