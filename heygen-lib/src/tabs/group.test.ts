import { afterEach, describe, expect, it, vi, type Mock } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import { jobStub } from '../../test/support/fakes.js';
import { FakeBroadcast, FakeLocks } from '../../test/support/tabs-fakes.js';
import { createHttp } from '../http.js';
import { isFinished } from '../listener-registry.js';
import type { Job } from '../job.js';
import type { StateListener, TransportHost, TransportState } from '../transports/transport.js';
import type { HeyGenStatusListenerMode } from '../types.js';
import { createTabGroup, type TabGroup } from './group.js';
import { PROTOCOL_VERSION } from './protocol.js';

const NAME = 'heygen-lib/tabs test group';
const LEADER_TIMEOUT = 500;

/** A real transport the leader opened, as the fake records it. */
interface Opened {
  mode: HeyGenStatusListenerMode;
  host: TransportHost;
  onState: StateListener;
  started: boolean;
  closed: boolean;
  wakes: number;
}

/** One tab: its group, the facade's host and transport states, what it opened, what it logged. */
interface Tab {
  sut: TabGroup;
  watched: Set<number>;
  /** Watch periods of jobs created with `cancelWhenUnwatched`, as the registry keeps them. */
  within: Map<number, number>;
  /** When the registry would first poll each job (absent: it does not know). */
  due: Map<number, number>;
  updates: Job[];
  states: TransportState[];
  opened: Opened[];
  logs: string[];
  host: TransportHost;
  missing: Mock<(ids: number[]) => void>;
  /** The facade connects (listen/waitForJob): the group's link starts. */
  watch(...ids: number[]): void;
}

let hub: FakeBroadcast;
let locks: FakeLocks;
let tabs: Tab[];

const newTab = (name: string, mode: HeyGenStatusListenerMode = 'sse'): Tab => {
  const logs: string[] = [];
  const http = createHttp(
    'http://127.0.0.1:1',
    crypto.randomUUID(),
    () => Promise.reject(new Error('no network in unit tests')),
    (message) => logs.push(message),
  );
  const watched = new Set<number>();
  const within = new Map<number, number>();
  const due = new Map<number, number>();
  const updates: Job[] = [];
  const states: TransportState[] = [];
  const opened: Opened[] = [];
  const missing = vi.fn<(ids: number[]) => void>();
  const host: TransportHost = {
    http,
    heartbeatMs: 15_000,
    retryDelay: 500,
    pollInterval: 1000,
    ids: () => [...watched],
    dueAt: (id) => due.get(id) ?? 0,
    watchWithin: (id) => within.get(id) ?? Infinity,
    update: (job) => {
      updates.push(job);
      if (isFinished(job)) watched.delete(job.id);
    },
    missing,
    error: vi.fn(),
    snapshot: vi.fn(),
  };
  const sut = createTabGroup({
    name: NAME,
    platform: hub.platform(name, locks),
    mode,
    http,
    retries: 5,
    retryDelay: 500,
    pollInterval: 1000,
    leaderTimeout: LEADER_TIMEOUT,
    open: (mode, host, _retries, onState) => {
      const record: Opened = { mode, host, onState, started: false, closed: false, wakes: 0 };
      opened.push(record);
      return {
        start: () => void (record.started = true),
        wake: () => void record.wakes++,
        close: () => void (record.closed = true),
      };
    },
    onRole: () => {},
  });
  let link: ReturnType<TabGroup['link']> | undefined;
  const tab: Tab = {
    sut,
    watched,
    within,
    due,
    updates,
    states,
    opened,
    logs,
    host,
    missing,
    watch: (...ids) => {
      for (const id of ids) watched.add(id);
      if (link) link.wake();
      else {
        link = sut.link(host, (state) => states.push(state));
        link.start();
      }
    },
  };
  tabs.push(tab);
  return tab;
};

/** Lets messages and lock grants settle. */
const settle = async (clock: { advance(ms: number): Promise<void> }) => clock.advance(0);

const live = (tab: Tab) => tab.opened.filter((opened) => !opened.closed);

afterEach(() => {
  for (const tab of tabs ?? []) tab.sut.dispose();
});

const setUp = () => {
  hub = new FakeBroadcast();
  locks = new FakeLocks();
  tabs = [];
};

describe(createTabGroup.name, () => {
  it('should elect the first tab leader and make the others followers', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b, c] = [newTab('a'), newTab('b'), newTab('c')];
    await settle(clock);
    expect([a.sut.role, b.sut.role, c.sut.role]).toEqual(['leader', 'follower', 'follower']);
    // Nobody watches anything: no connection at all.
    expect(a.opened).toHaveLength(0);
  });

  it("should open one transport on the union of every tab's ids and pass every update on", async () => {
    using clock = fakeClock();
    setUp();
    const [a, b, c] = [newTab('a'), newTab('b'), newTab('c')];
    await settle(clock);
    b.watch(7);
    c.watch(8, 9);
    await settle(clock);
    expect(a.opened).toHaveLength(1);
    const [real] = a.opened;
    expect(real!.started).toBe(true);
    expect(real!.host.ids().sort()).toEqual([7, 8, 9]);
    real!.host.lastEventId = '42';
    real!.host.update(jobStub(7, 'running', 2));
    await settle(clock);
    for (const tab of [b, c]) expect(tab.updates).toEqual([jobStub(7, 'running', 2)]);
    // The leader's own facade has never connected: its registry is not involved.
    expect(a.updates).toEqual([]);
    expect(hub.posted).toContainEqual(
      expect.objectContaining({ type: 'job', lastEventId: '42', v: PROTOCOL_VERSION }),
    );
    // POLL needs the union; a finished job leaves it, and the last watcher gone closes it.
    real!.host.update(jobStub(7, 'completed', 3));
    real!.host.update(jobStub(8, 'completed', 3));
    await settle(clock);
    expect(real!.host.ids()).toEqual([9]);
    real!.host.update(jobStub(9, 'cancelled', 3));
    await settle(clock);
    expect(real!.closed).toBe(true);
  });

  it("should poll a follower's cancelWhenUnwatched job in time for it", async () => {
    using clock = fakeClock();
    setUp();
    const [a, b, c] = [newTab('a', 'poll'), newTab('b', 'poll'), newTab('c', 'poll')];
    await settle(clock);
    a.within.set(1, 4000);
    a.watch(1);
    b.within.set(1, 1500);
    b.within.set(2, 800);
    b.watch(1, 2, 3);
    c.watch(2);
    await settle(clock);
    const real = a.opened[0]!.host;
    expect(real.watchWithin?.(1)).toBe(1500);
    expect(real.watchWithin?.(2)).toBe(800);
    expect(real.watchWithin?.(3)).toBe(Infinity);
    // Finished, the job leaves the follower's list, and its period with it.
    real.update(jobStub(2, 'completed', 3));
    await settle(clock);
    expect(b.watched).toEqual(new Set([1, 3]));
    expect(real.watchWithin?.(2)).toBe(Infinity);
    b.watch();
    await settle(clock);
    expect(real.watchWithin?.(2)).toBe(Infinity);
  });

  it("should first poll a follower's job when the follower would have", async () => {
    using clock = fakeClock();
    setUp();
    const [a, b, c] = [newTab('a', 'poll'), newTab('b', 'poll'), newTab('c', 'poll')];
    await settle(clock);
    a.watch(5);
    const now = Date.now();
    b.due.set(1, now + 3000);
    b.due.set(2, now + 9000);
    c.due.set(2, now + 6000);
    a.due.set(4, now + 2000);
    b.watch(1, 2, 3, 4);
    c.watch(2);
    await settle(clock);
    const real = a.opened[0]!.host;
    expect(real.dueAt(1)).toBe(now + 3000);
    expect(real.dueAt(2)).toBe(now + 6000); // the earliest of the tabs'
    expect(real.dueAt(3)).toBe(0); // nobody knows: at once
    expect(real.dueAt(4)).toBe(now + 2000); // the leader's own
  });

  it("should mirror the leader's transport state in a follower, once per change", async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    a.opened[0]!.onState({ state: 'connecting', transport: 'sse', attempt: 0 });
    a.opened[0]!.onState({ state: 'open', transport: 'sse' });
    await clock.advance(3000); // pings answered with the same state
    expect(b.states).toEqual([
      { state: 'connecting', transport: 'sse', attempt: 0 },
      { state: 'open', transport: 'sse' },
    ]);
    expect(b.sut.role).toBe('follower');
  });

  it('should hand over to the next tab when the leader disposes, resuming with the last event id', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b, c] = [newTab('a'), newTab('b'), newTab('c')];
    await settle(clock);
    b.watch(1);
    c.watch(2);
    await settle(clock);
    const old = a.opened[0]!;
    old.host.lastEventId = '17';
    old.host.update(jobStub(1, 'running', 2));
    a.sut.dispose();
    await settle(clock);
    expect(old.closed).toBe(true);
    expect([b.sut.role, c.sut.role]).toEqual(['leader', 'follower']);
    expect(b.opened).toHaveLength(1);
    expect(b.opened[0]!.host.lastEventId).toBe('17');
    expect(b.opened[0]!.host.ids().sort()).toEqual([1, 2]);
  });

  it('should hand over at once when the leader tab closes (the browser frees its lock)', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    a.opened[0]!.host.lastEventId = '5';
    a.opened[0]!.host.update(jobStub(1, 'running', 2));
    await settle(clock);
    // The tab is gone: no message, no dispose(), only the lock released.
    for (const member of [...hub.members]) if (member.tab === 'a') hub.members.delete(member);
    tabs.shift();
    locks.crash();
    await settle(clock);
    expect(b.sut.role).toBe('leader');
    expect(b.opened[0]!.host.lastEventId).toBe('5');
  });

  it('should take the lead from a frozen leader within a second, and the old leader should step down', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    const frozenAt = clock.now();
    hub.frozen.add('a');
    await vi.waitFor(
      async () => {
        await clock.advance(25);
        expect(b.sut.role).toBe('leader');
      },
      { timeout: 5000, interval: 1 },
    );
    expect(clock.now() - frozenAt).toBeLessThanOrEqual(1000);
    expect(b.logs.join('\n')).toMatch(/did not answer/);
    // The old leader wakes up: its lock was stolen, it follows and closes its transport.
    hub.frozen.delete('a');
    await settle(clock);
    expect(a.sut.role).toBe('follower');
    expect(live(a)).toHaveLength(0);
    expect(live(b)).toHaveLength(1);
  });

  it('should take the lead from a frozen leader after the wall clock was set back (review of 2026-12-01)', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    // Last heard "in the future": the follower never asked, and never took the lead.
    vi.setSystemTime(Date.now() - 3_600_000);
    hub.frozen.add('a');
    await clock.advance(1000);

    expect(b.sut.role).toBe('leader');
    hub.frozen.delete('a');
    await settle(clock);
    expect(a.sut.role).toBe('follower');
  });

  it('should not replace a leader that answers, however long it stays quiet', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await clock.advance(10_000);
    expect([a.sut.role, b.sut.role]).toEqual(['leader', 'follower']);
    expect(
      hub.posted.filter((m) => (m as { type: string }).type === 'ping').length,
    ).toBeGreaterThan(5);
  });

  it('should switch the group transport on a changeBackend in a follower, the new one first', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    b.sut.setMode('poll');
    await settle(clock);
    expect(a.opened.map((opened) => [opened.mode, opened.closed])).toEqual([
      ['sse', true],
      ['poll', false],
    ]);
  });

  it('should switch once when every tab passes on the same changeBackend', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b, c] = [newTab('a'), newTab('b'), newTab('c')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    // As the dashboard does: the tab the user clicked, then every other tab it told.
    b.sut.setMode('poll');
    c.sut.setMode('poll');
    a.sut.setMode('poll');
    await settle(clock);
    expect(a.opened.map((opened) => [opened.mode, opened.closed])).toEqual([
      ['sse', true],
      ['poll', false],
    ]);
  });

  it('should tell a follower only about the ids it watches when the server misses some', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    a.opened[0]!.host.missing([1, 2]);
    await settle(clock);
    expect(b.missing).toHaveBeenCalledWith([1]);
    expect(a.missing).not.toHaveBeenCalled();
  });

  it('should ignore and log garbage and messages of another version, never throw', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    for (const data of [
      'garbage',
      undefined,
      { v: PROTOCOL_VERSION + 1, from: 'x', type: 'job', job: jobStub(1, 'completed', 9) },
      { v: PROTOCOL_VERSION, from: 'x', type: 'job', job: { id: 1, status: 'done' } },
      { v: PROTOCOL_VERSION, from: 'x', type: 'leader', mode: 'telepathy' },
    ]) {
      hub.inject(NAME, data);
    }
    await settle(clock);
    expect(b.updates).toEqual([]);
    expect([a.sut.role, b.sut.role]).toEqual(['leader', 'follower']);
    expect(b.logs.filter((line) => line.includes('ignored a message'))).toHaveLength(5);
  });

  it('should keep leading when another tab claims the lead without the lock', async () => {
    using clock = fakeClock();
    setUp();
    const [a, b] = [newTab('a'), newTab('b')];
    await settle(clock);
    b.watch(1);
    await settle(clock);
    // A stray tab (an older copy, or a script on the page) says it leads; the lock says a does.
    hub.inject(NAME, { v: PROTOCOL_VERSION, from: 'x', type: 'leader', mode: 'sse' });
    await settle(clock);
    expect([a.sut.role, b.sut.role]).toEqual(['leader', 'follower']);
    expect(live(a)).toHaveLength(1);
    a.opened[0]!.host.update(jobStub(1, 'completed', 3));
    await settle(clock);
    expect(b.updates.map((job) => job.status)).toEqual(['completed']);
  });
});
