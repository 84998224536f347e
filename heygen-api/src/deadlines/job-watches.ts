import { type ClientKey } from '../domain/client.js';

/** Ends a watch: the jobs it covered were watched until now. */
export type Unwatch = () => void;

/** `end` as an Unwatch that acts on its first call only: a watch ends once. */
export function unwatchOnce(end: () => void): Unwatch {
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    end();
  };
}

/**
 * Who watches the jobs that opted into `cancelWhenUnwatched` (docs/protocol.md, "Deadlines";
 * docs/design.md, "Deadlines"), and the injection token for it: each driver provides its own
 * (InMemoryJobWatches, RedisJobWatches). A job is watched while a stream of its client is open or
 * a held wait lists it, and at every status read naming it; one unwatched for its time is handed
 * to `onUnwatched`.
 */
export abstract class JobWatches {
  /** Who cancels a job found unwatched (JobsService; set once, at its construction). */
  abstract onUnwatched(cancel: (clientId: ClientKey, id: number) => void): void;

  /** What this instance keeps for the watches, for leak checks. */
  abstract get size(): number;

  /**
   * A new job that is cancelled once unwatched for `afterMs`, counted from `now` (its creation).
   * Again for a job already added: kept as it is.
   */
  abstract add(
    clientId: ClientKey,
    id: number,
    afterMs: number,
    now?: number,
  ): void | Promise<void>;

  /** The job finished: nothing to watch for any more. */
  abstract forget(clientId: ClientKey, id: number): void;

  /**
   * A status read or held wait starts watching `ids` of the client (undefined: all of its jobs);
   * watched until the returned function is called, which a plain read does at once.
   */
  abstract watch(clientId: ClientKey, ids: readonly number[] | undefined): Unwatch;

  /**
   * An open stream watches every job of its client, those created while it is open too, until the
   * returned function is called.
   */
  abstract watchAll(clientId: ClientKey): Unwatch;
}
