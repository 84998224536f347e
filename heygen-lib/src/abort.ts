import { clampDelay, isBounded } from './delay.js';

/** A signal made of others; see {@link linkSignals}. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Stop listening to the sources and clear the timer: call it when the work is done. */
  release(): void;
}

/**
 * A signal that aborts with the reason of the first of `sources` to abort, or after `ms` with
 * `onTimeout()`. Unlike `AbortSignal.any` (missing from browsers before 2024) it lets go of its
 * sources on `release()`, so a long-lived source such as the instance's dispose signal does not
 * collect one listener per request.
 */
export const linkSignals = (
  sources: (AbortSignal | undefined)[],
  ms?: number,
  onTimeout?: () => unknown,
): LinkedSignal => {
  const controller = new AbortController();
  const abort = (reason: unknown): void => {
    release();
    controller.abort(reason);
  };
  const listeners = sources.flatMap((source) => {
    if (!source) return [];
    const listener = (): void => abort(source.reason);
    source.addEventListener('abort', listener);
    return [() => source.removeEventListener('abort', listener)];
  });
  const timer = isBounded(ms) ? setTimeout(() => abort(onTimeout?.()), clampDelay(ms)) : undefined;
  const release = (): void => {
    clearTimeout(timer);
    for (const remove of listeners) remove();
  };
  const aborted = sources.find((source) => source?.aborted);
  if (aborted) abort(aborted.reason);
  return { signal: controller.signal, release };
};

/** Why a signal aborted, as the error a promise rejects with. */
const abortReason = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const wake = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', wake);
      resolve();
    }, clampDelay(ms));
    if (signal.aborted) wake();
    else signal.addEventListener('abort', wake, { once: true });
  });

/**
 * `promise`, or a rejection with the signal's reason as soon as it aborts: a `fetch` that ignores
 * its signal (an injected one) still cannot hold a call past its bound.
 */
export const untilAborted = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const stop = (): void => reject(abortReason(signal));
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
