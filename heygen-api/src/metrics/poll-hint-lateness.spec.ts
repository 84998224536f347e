import { describe, expect, it } from 'vitest';
import { pollHintLateness } from './poll-hint-lateness.js';

const expectedAt = '2026-11-30T10:00:01.000Z';
const due = Date.parse(expectedAt);
const runningStub = { expectedAt };
const finishedStub = { expectedAt, finishedAt: '2026-11-30T10:00:01.030Z' };

describe(pollHintLateness.name, () => {
  it('should ignore a poll before the hinted moment, which did not wait the hint', () => {
    expect(pollHintLateness(finishedStub, due + 9, 10)).toBeUndefined();
    expect(pollHintLateness(runningStub, due, 10)).toBeUndefined();
  });

  it('should measure from the finish a poll at or after the hinted moment', () => {
    expect(pollHintLateness(finishedStub, due + 40, 10)).toEqual({ lateMs: 10 });
    expect(pollHintLateness(finishedStub, due + 1030, 10)).toEqual({ lateMs: 1000 });
  });

  it('should call a poll that waited the hint and found the job unfinished early', () => {
    expect(pollHintLateness(runningStub, due + 10, 10)).toBe('early');
  });

  it('should never measure below zero, whatever the clocks', () => {
    const finishedLater = { expectedAt, finishedAt: '2026-11-30T10:00:02.000Z' };
    expect(pollHintLateness(finishedLater, due + 10, 10)).toEqual({ lateMs: 0 });
  });
});
