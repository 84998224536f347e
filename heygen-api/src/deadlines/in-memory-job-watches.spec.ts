import { afterEach, describe, expect, it, vi, type Mock } from 'vitest';
import { InMemoryJobWatches } from './in-memory-job-watches.js';

const clientStub = 'client-a';

describe(InMemoryJobWatches.name, () => {
  let sut: InMemoryJobWatches;
  let unwatched: Mock<(clientId: string, id: number) => void>;

  const newTestWatches = (): InMemoryJobWatches => {
    sut = new InMemoryJobWatches();
    unwatched = vi.fn<(clientId: string, id: number) => void>();
    sut.onUnwatched(unwatched);
    return sut;
  };

  afterEach(() => sut.onModuleDestroy());

  it('should hand over a job unwatched for its time, once', () => {
    newTestWatches();
    const now = Date.now();
    sut.add(clientStub, 1, 300, now);

    sut.sweep(now + 299);
    expect(unwatched).not.toHaveBeenCalled();
    sut.sweep(now + 300);
    expect(unwatched).toHaveBeenCalledExactlyOnceWith(clientStub, 1);
    sut.sweep(now + 900);
    expect(unwatched).toHaveBeenCalledOnce();
    expect(sut.size).toBe(0);
  });

  it('should spare a job a watch holds, and count its time again from the release', () => {
    newTestWatches();
    sut.add(clientStub, 1, 300);
    const unwatch = sut.watch(clientStub, [1, 2]);

    sut.sweep(Date.now() + 10_000);
    expect(unwatched).not.toHaveBeenCalled();

    unwatch();
    const released = Date.now();
    sut.sweep(released + 299);
    expect(unwatched).not.toHaveBeenCalled();
    sut.sweep(released + 10_300);
    expect(unwatched).toHaveBeenCalledExactlyOnceWith(clientStub, 1);
  });

  it('should spare every job of a client with an open stream, those added later too', () => {
    newTestWatches();
    const unwatch = sut.watchAll(clientStub);
    sut.add(clientStub, 1, 300);

    sut.sweep(Date.now() + 10_000);
    expect(unwatched).not.toHaveBeenCalled();
    expect(sut.watch('client-b', undefined)).toBeTypeOf('function');

    unwatch();
    sut.sweep(Date.now() + 10_000);
    expect(unwatched).toHaveBeenCalledExactlyOnceWith(clientStub, 1);
  });

  it('should spare a job created while a held batch without ids is open, though none of the client opted in before (review of 2026-12-01)', () => {
    newTestWatches();
    const unwatch = sut.watch(clientStub, undefined);
    sut.add(clientStub, 1, 300);

    sut.sweep(Date.now() + 10_000);
    expect(unwatched).not.toHaveBeenCalled();

    unwatch();
    sut.sweep(Date.now() + 10_000);
    expect(unwatched).toHaveBeenCalledExactlyOnceWith(clientStub, 1);
  });

  it('should not watch for a job that finished', () => {
    newTestWatches();
    const now = Date.now();
    sut.add(clientStub, 1, 300, now);
    sut.forget(clientStub, 1);

    sut.sweep(now + 1000);
    expect(unwatched).not.toHaveBeenCalled();
    expect(sut.size).toBe(0);
  });

  it('should keep nothing for a read of a client none of whose jobs opted in', () => {
    newTestWatches();
    sut.watch(clientStub, [1])();
    sut.watch(clientStub, undefined)();
    sut.add('client-b', 1, 300);

    expect(sut.size).toBe(1);
    sut.forget('client-b', 1);
    expect(sut.size).toBe(0);
  });
});
