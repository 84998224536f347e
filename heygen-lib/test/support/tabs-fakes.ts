import type { LocksLike } from '../../src/tabs/election.js';
import type { ChannelLike, TabsPlatform } from '../../src/tabs/platform.js';

interface LockRequest {
  callback: () => Promise<void>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Web Locks for one origin, as the spec has them for the calls the election makes: requests
 * are granted in order, a `signal` leaves the queue, `steal` takes the lock from its holder
 * (whose request rejects with AbortError), and `crash` frees a holder as a closed tab would.
 */
export class FakeLocks implements LocksLike {
  held: LockRequest | undefined;
  readonly queue: LockRequest[] = [];

  request(
    _name: string,
    options: { signal?: AbortSignal; steal?: boolean },
    callback: () => Promise<void>,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request: LockRequest = { callback, resolve, reject };
      if (options.steal) {
        const held = this.held;
        this.held = undefined;
        held?.reject(new DOMException('Lock broken by another request', 'AbortError'));
        this.#grant(request);
        return;
      }
      this.queue.push(request);
      options.signal?.addEventListener('abort', () => {
        const at = this.queue.indexOf(request);
        if (at < 0) return;
        this.queue.splice(at, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
      this.#next();
    });
  }

  /** The holder's tab is gone: the lock goes to the next in the queue. */
  crash(): void {
    this.held = undefined;
    this.#next();
  }

  #next(): void {
    if (this.held) return;
    const next = this.queue.shift();
    if (next) this.#grant(next);
  }

  #grant(request: LockRequest): void {
    this.held = request;
    queueMicrotask(() => {
      void request.callback().then((value) => {
        if (this.held !== request) return;
        this.held = undefined;
        request.resolve(value);
        this.#next();
      });
    });
  }
}

interface Member {
  name: string;
  tab: string;
  receive: (data: unknown) => void;
}

/**
 * BroadcastChannel between fake tabs: a message is cloned and delivered in a microtask to every
 * other member of the channel. A frozen tab neither receives nor posts.
 */
export class FakeBroadcast {
  readonly members = new Set<Member>();
  readonly frozen = new Set<string>();
  /** Every message posted, as posted. */
  readonly posted: unknown[] = [];

  platform(tab: string, locks: FakeLocks, storage = new Map<string, string>()): TabsPlatform {
    return {
      locks,
      storage: {
        getItem: (key) => storage.get(key) ?? null,
        setItem: (key, value) => void storage.set(key, value),
      },
      channel: (name, receive) => this.#join({ name, tab, receive }),
    };
  }

  /** Posts raw data on `name` as some other tab would. */
  inject(name: string, data: unknown): void {
    this.#deliver({ name, tab: 'foreign', receive: () => {} }, data);
  }

  #join(member: Member): ChannelLike {
    this.members.add(member);
    return {
      post: (data) => {
        if (!this.members.has(member)) throw new DOMException('closed', 'InvalidStateError');
        if (this.frozen.has(member.tab)) return;
        this.posted.push(data);
        this.#deliver(member, data);
      },
      close: () => void this.members.delete(member),
    };
  }

  #deliver(from: Member, data: unknown): void {
    const copy = structuredClone(data);
    for (const member of this.members) {
      if (member === from || member.name !== from.name) continue;
      queueMicrotask(() => {
        if (this.members.has(member) && !this.frozen.has(member.tab)) member.receive(copy);
      });
    }
  }
}
