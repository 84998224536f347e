import fc from 'fast-check';
import { fakeClock, type FakeClock } from 'heygen-test-support';
import { propertyParameters } from 'heygen-test-support/property';
import { describe, expect, it } from 'vitest';
import { clientStub, configStub, otherClientStub, thirdClientStub } from '../../test/unit/stubs.js';
import { type ClientKey } from '../domain/client.js';
import { newJob } from '../domain/job.js';
import { InMemoryJobEvents } from './in-memory-job-events.js';
import { type JobEvent } from './job-events.js';
import { ReplayLog } from './replay-log.js';

// Property-based tests of the replay log and of resuming from it (issue 13, docs/protocol.md, "What
// a client receives, in order"): a resume from `Last-Event-ID` yields exactly the client's events
// after it, in order, with no gap and no duplicate, or says "snapshot" when it cannot.

const CLIENTS: readonly ClientKey[] = [clientStub, otherClientStub, thirdClientStub];

describe(ReplayLog.name, () => {
  it('should keep the last `capacity` items in order, and hand back each one it pushes out', () => {
    const op = fc.record({ client: fc.nat({ max: 2 }), read: fc.boolean() });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(op, { maxLength: 40 }),
        (capacity, ops) => {
          const sut = new ReplayLog<{ n: number; client: number }>(capacity);
          const kept: { n: number; client: number }[] = [];
          ops.forEach(({ client, read }, n) => {
            const item = { n, client };
            kept.push(item);
            const pushedOut = kept.length > capacity ? kept.shift() : undefined;
            expect(sut.append(item)).toBe(pushedOut);
            expect(sut.size).toBe(kept.length);
            if (read) {
              expect(sut.filter((it) => it.client === client)).toEqual(
                kept.filter((it) => it.client === client),
              );
            }
          });
          expect(sut.filter(() => true)).toEqual(kept);
        },
      ),
      propertyParameters(),
    );
  });
});

/** An id the client was told: an event's, or a head (the position a snapshot stands for). */
interface Given {
  id: string;
  /**
   * Whether a stream could have been told it: an event's id, or a head read while the client had a
   * subscription, as a stream reads it for its snapshot (status-stream.service.ts). A head read
   * without one is the clock, and a sequence begun or taken up later may start below or above it:
   * only a snapshot is promised from there.
   */
  resumable: boolean;
}

class Model {
  /** Every event published, in order: the last `logSize` are what the log holds. */
  readonly published: JobEvent[] = [];
  readonly given = new Map<ClientKey, Given[]>(CLIENTS.map((clientId) => [clientId, []]));

  constructor(readonly logSize: number) {}

  eventsOf(clientId: ClientKey): JobEvent[] {
    return this.published.filter((event) => event.clientId === clientId);
  }

  /** What a resume after `after` must yield: every later event of the client. */
  missed(clientId: ClientKey, after: number): JobEvent[] {
    return this.eventsOf(clientId).filter((event) => Number(event.id) > after);
  }

  inLog(event: JobEvent): boolean {
    return this.published.indexOf(event) >= this.published.length - this.logSize;
  }

  /** The highest id the client was ever told: anything above is from the future. */
  highestGiven(clientId: ClientKey): number {
    return Math.max(-1, ...this.given.get(clientId)!.map(({ id }) => Number(id)));
  }

  tell(clientId: ClientKey, given: Given): void {
    this.given.get(clientId)!.push(given);
  }
}

/** One live subscription: what it received, and where in `published` it began. */
interface Subscription {
  clientId: ClientKey;
  from: number;
  received: JobEvent[];
  unsubscribe: () => void;
}

interface System {
  sut: InMemoryJobEvents;
  clock: FakeClock;
  subscriptions: Subscription[];
}

/** Live subscriptions got every event of their client since they began, in order, and only those. */
function checkDeliveries(m: Model, r: System): void {
  for (const { clientId, from, received } of r.subscriptions) {
    expect(received).toEqual(m.published.slice(from).filter((e) => e.clientId === clientId));
  }
  expect(r.sut.subscriptionCount()).toBe(r.subscriptions.length);
}

class PublishCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly client: number) {}

  check = () => true;

  async run(m: Model, r: System): Promise<void> {
    const clientId = CLIENTS[this.client]!;
    const job = newJob(m.published.length + 1, 1000, Date.now());
    const event = await r.sut.publish(clientId, job);
    expect(event).toMatchObject({ clientId, job });
    expect(event.id, 'a numeric id').toMatch(/^\d{1,16}$/);
    const previous = m.eventsOf(clientId).at(-1);
    if (previous) expect(Number(event.id), 'ids grow').toBeGreaterThan(Number(previous.id));
    m.published.push(event);
    m.tell(clientId, { id: event.id, resumable: true });
    expect(await r.sut.head(clientId), 'the head is the latest event').toBe(event.id);
    checkDeliveries(m, r);
  }

  toString(): string {
    return `publish(client ${this.client})`;
  }
}

class HeadCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly client: number) {}

  check = () => true;

  async run(m: Model, r: System): Promise<void> {
    const clientId = CLIENTS[this.client]!;
    const head = await r.sut.head(clientId);
    expect(head).toMatch(/^\d{1,16}$/);
    const latest = m.eventsOf(clientId).at(-1);
    if (latest)
      expect(Number(head), 'not before its events').toBeGreaterThanOrEqual(Number(latest.id));
    const subscribed = r.subscriptions.some((subscription) => subscription.clientId === clientId);
    m.tell(clientId, { id: head, resumable: subscribed });
  }

  toString(): string {
    return `head(client ${this.client})`;
  }
}

class SubscribeCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly client: number) {}

  check = () => true;

  run(m: Model, r: System): Promise<void> {
    this.open(m, r);
    checkDeliveries(m, r);
    return Promise.resolve();
  }

  open(m: Model, r: System): void {
    const clientId = CLIENTS[this.client]!;
    const received: JobEvent[] = [];
    const unsubscribe = r.sut.subscribe(clientId, (event) => received.push(event));
    r.subscriptions.push({ clientId, from: m.published.length, received, unsubscribe });
  }

  toString(): string {
    return `subscribe(client ${this.client})`;
  }
}

class UnsubscribeCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly pick: number) {}

  check = () => true;

  run(m: Model, r: System): Promise<void> {
    if (r.subscriptions.length > 0) {
      r.subscriptions.splice(this.pick % r.subscriptions.length, 1)[0]!.unsubscribe();
    }
    checkDeliveries(m, r);
    return Promise.resolve();
  }

  toString(): string {
    return `unsubscribe(#${this.pick})`;
  }
}

/** Small moves give ids in the same millisecond, large ones let clients be retired. */
class AdvanceCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly ms: number) {}

  check = () => true;

  async run(m: Model, r: System): Promise<void> {
    await r.clock.advance(this.ms);
    checkDeliveries(m, r);
  }

  toString(): string {
    return `advance(${this.ms})`;
  }
}

/** Where a resume starts from. */
type From =
  | { kind: 'given'; pick: number }
  | { kind: 'foreign'; pick: number }
  | { kind: 'future'; by: number }
  | { kind: 'text'; text: string };

const fromArb: fc.Arbitrary<From> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('given'), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('foreign'), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('future'), by: fc.integer({ min: 1, max: 5000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('text'),
      text: fc.oneof(
        fc.constantFrom(
          '',
          'abc',
          '-1',
          '1.5',
          ' 1',
          '1e3',
          '0x1f',
          '+5',
          '١٢٣',
          '12345678901234567',
        ),
        fc.string({ maxLength: 20 }),
      ),
    }),
  },
);

/**
 * Resumes from an id: as a stream does (status-stream.service.ts: subscribe, then replay, then stay
 * open for live events), or with a bare replay, of which only a correct answer is asked.
 */
class ResumeCommand implements fc.AsyncCommand<Model, System> {
  constructor(
    readonly client: number,
    readonly from: From,
    readonly stream: boolean,
  ) {}

  check = () => true;

  async run(m: Model, r: System): Promise<void> {
    const clientId = CLIENTS[this.client]!;
    const { id: afterId, given } = this.resolve(m, clientId);
    if (this.stream) new SubscribeCommand(this.client).open(m, r);
    const replayed = await r.sut.replay(clientId, afterId);
    const label = `resume of client ${this.client} from ${JSON.stringify(afterId)}`;
    if (!/^\d+$/.test(afterId)) {
      expect(replayed, `${label}: malformed, a snapshot`).toBeUndefined();
      return;
    }
    const after = Number(afterId);
    const missed = m.missed(clientId, after);
    // Above every id the client was told, and above the clock, where a new sequence starts.
    if (after > Math.max(m.highestGiven(clientId), Date.now())) {
      expect(replayed, `${label}: from the future, a snapshot`).toBeUndefined();
      return;
    }
    // A replay is exactly what was missed: no gap, no duplicate, in order.
    if (replayed !== undefined) expect(replayed, `${label}: what was missed`).toEqual(missed);
    // And a stream gets one whenever it can: the id was told and every later event is still kept.
    // A client retired more times than the log's size may be forgotten (in-memory-job-events.ts),
    // so that is promised only when the log can remember every client.
    const canResume =
      this.stream &&
      given?.resumable === true &&
      missed.every((event) => m.inLog(event)) &&
      m.logSize >= CLIENTS.length;
    if (canResume) expect(replayed, `${label}: resumable, a replay`).toBeDefined();
  }

  /** The id to resume from, and whether (and how) it was told to this client. */
  private resolve(m: Model, clientId: ClientKey): { id: string; given?: Given } {
    const from = this.from;
    switch (from.kind) {
      case 'given': {
        const told = m.given.get(clientId)!;
        const given = told[from.pick % Math.max(1, told.length)];
        return given ? { id: given.id, given } : { id: '0' };
      }
      case 'foreign': {
        const others = CLIENTS.filter((c) => c !== clientId).flatMap((c) => m.given.get(c)!);
        const id = others[from.pick % Math.max(1, others.length)]?.id ?? '0';
        // Ids are per client: another client's may happen to be one this client was told too.
        const given = m.given.get(clientId)!.find((told) => told.id === id);
        return given ? { id, given } : { id };
      }
      case 'future':
        return { id: String(Math.max(m.highestGiven(clientId), Date.now()) + from.by) };
      case 'text':
        return { id: from.text };
    }
  }

  toString(): string {
    return `${this.stream ? 'stream' : 'replay'}(client ${this.client}, ${JSON.stringify(this.from)})`;
  }
}

const clientArb = fc.nat({ max: CLIENTS.length - 1 });
const commandsArb = fc.commands(
  [
    clientArb.map((client) => new PublishCommand(client)),
    clientArb.map((client) => new PublishCommand(client)),
    clientArb.map((client) => new HeadCommand(client)),
    clientArb.map((client) => new SubscribeCommand(client)),
    fc.nat().map((pick) => new UnsubscribeCommand(pick)),
    fc.integer({ min: 0, max: 3 }).map((ms) => new AdvanceCommand(ms)),
    fc.integer({ min: 100, max: 5000 }).map((ms) => new AdvanceCommand(ms)),
    fc
      .tuple(clientArb, fromArb, fc.boolean())
      .map(([client, from, stream]) => new ResumeCommand(client, from, stream)),
    fc
      .tuple(clientArb, fromArb, fc.boolean())
      .map(([client, from, stream]) => new ResumeCommand(client, from, stream)),
  ],
  { maxCommands: 40, size: 'max' },
);

describe(InMemoryJobEvents.name, () => {
  it('should resume from an event id with exactly the events missed, or answer with a snapshot', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), commandsArb, async (logSize, commands) => {
        using clock = fakeClock();
        const sut = new InMemoryJobEvents(configStub({ REPLAY_LOG_SIZE: String(logSize) }));
        try {
          const real: System = { sut, clock, subscriptions: [] };
          await fc.asyncModelRun(() => ({ model: new Model(logSize), real }), commands);
        } finally {
          sut.onModuleDestroy();
        }
      }),
      propertyParameters(),
    );
  });
});
