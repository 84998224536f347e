/** The part of the Web Locks API (`navigator.locks`) the election uses. */
export interface LocksLike {
  request(
    name: string,
    options: { signal?: AbortSignal; steal?: boolean },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

/** What happens to this instance's candidacy. */
export interface ElectionEvents {
  /** The lock is ours: lead until resign(), or until another tab steals it. */
  lead(): void;
  /** The lock was stolen (we were taken for frozen): follow; the election queues again. */
  depose(): void;
}

/** One instance's candidacy for leading its group. */
export interface Election {
  /** Take the lock from a holder that no longer answers (`steal: true`). */
  steal(): void;
  /** Leave the lock or the queue for good; the next tab in the queue gets it at once. */
  resign(): void;
}

/**
 * Leader election with the Web Locks API: every instance of the group asks for the lock `name`
 * and the browser grants it to one at a time, in order. The leader holds it for its life; when
 * its tab closes (or crashes) the browser releases it and grants it to the next in the queue, so
 * a closing leader needs no message at all. `steal` is how a frozen leader is replaced.
 */
export const createElection = (
  locks: LocksLike,
  name: string,
  events: ElectionEvents,
): Election => {
  let ended = false;
  /** The candidacy in force; an older one's outcome is ignored. */
  let current = 0;
  /** Ends the held lock's callback, releasing the lock; undefined while not leading. */
  let release: (() => void) | undefined;
  /** Leaves the queue while waiting. */
  let leave: AbortController | undefined;

  const quit = (): void => {
    current++;
    release?.();
    release = undefined;
    leave?.abort();
    leave = undefined;
  };

  const campaign = (steal: boolean): void => {
    const token = ++current;
    const abort = (leave = steal ? undefined : new AbortController());
    let held = false;
    locks
      .request(name, abort ? { signal: abort.signal } : { steal: true }, () => {
        if (token !== current) return Promise.resolve();
        held = true;
        leave = undefined;
        const holding = new Promise<void>((resolve) => (release = resolve));
        events.lead();
        return holding;
      })
      .catch(() => {
        // A rejection is our own leaving (an aborted wait), or the lock stolen from us.
        if (ended || token !== current || !held) return;
        release = undefined;
        events.depose();
        campaign(false);
      });
  };

  campaign(false);
  return {
    steal: () => {
      if (ended || release) return;
      quit();
      campaign(true);
    },
    resign: () => {
      ended = true;
      quit();
    },
  };
};
