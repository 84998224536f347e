import { type AbstractHttpAdapter } from '@nestjs/core';
import { type Job } from '../domain/job.js';
import { rawRequest, rawResponse } from '../http/raw.js';
import { type AppMetrics, type PollKind } from '../metrics/app-metrics.js';
import { type Closable, type WaitOutcome, type WaitResponse } from './job-waits.js';
import { PREFER_HEADER, PREFERENCE_APPLIED_HEADER } from './prefer.js';

/**
 * Counts a status read as a poll (AppMetrics.polled): only one its client was there to hear (one
 * that left while held was answered nothing), and toward the poll hint's lateness only one
 * answered as soon as asked (no wait applied, or a listed job already had news).
 */
export function countPoll(
  metrics: AppMetrics,
  kind: PollKind,
  jobs: readonly Job[],
  marginMs: number,
  { end }: WaitOutcome,
): void {
  if (end === 'closed') return;
  metrics.polled(kind, jobs, marginMs, end === 'not-held' || end === 'ready');
}

/** What ends a held request early, under either adapter: Node's response and its connection. */
export function connectionOf(
  req: object,
  res: object,
): { response: WaitResponse; socket: Closable | null } {
  return { response: rawResponse(res), socket: rawRequest(req).socket };
}

/**
 * The headers of an answer that may have been held (docs/protocol.md, "Held waits"): `Vary:
 * Prefer` on every one, since the same URL answers differently with a wait; `Preference-Applied:
 * wait=<s>` when the wait was applied; `Connection: close` when the server stopped while holding
 * it, so the client asks the next time on a new connection (to another instance, or this one
 * back).
 */
export function setWaitHeaders(http: AbstractHttpAdapter, res: object, outcome: WaitOutcome): void {
  // Appended: CORS may have set `Vary: Origin` already.
  http.appendHeader(res, 'Vary', PREFER_HEADER);
  if (outcome.appliedS !== undefined) {
    http.setHeader(res, PREFERENCE_APPLIED_HEADER, `wait=${outcome.appliedS}`);
  }
  if (outcome.end === 'shutdown') http.setHeader(res, 'Connection', 'close');
}
