import type { HeyGenError } from '../errors/heygen-error.js';
import { elapsedNow } from '../delay.js';
import type { Http } from '../http.js';
import { isFinished } from '../listener-registry.js';
import type {
  StateListener,
  Transport,
  TransportHost,
  TransportState,
} from '../transports/transport.js';
import type { HeyGenStatusListenerMode } from '../types.js';
import { createElection } from './election.js';
import { createGroupHost, type GroupHostHooks } from './group-host.js';
import type { TabsPlatform } from './platform.js';
import {
  encode,
  fromWireError,
  fromWireState,
  parseMessage,
  toWireError,
  toWireState,
  type TabBody,
  type TabMessage,
} from './protocol.js';

/**
 * This instance's part in sharing: `leader` holds the group's one stream (or polling) and passes
 * every update on; a `follower` gets them from the leader; `alone` shares nothing (sharing is
 * off or unsupported, or after dispose()) and works like the main entry's HeyGenAPI.
 */
export type TabRole = 'leader' | 'follower' | 'alone';

/** What a group needs from the instance that joins it. */
export interface TabGroupConfig {
  /** Lock and channel name (platform.ts `groupName`). */
  name: string;
  platform: TabsPlatform;
  /** The mode the instance was created with: the group's until a changeBackend(). */
  mode: HeyGenStatusListenerMode;
  /** The requests of the group's transport while this instance leads, counted apart. */
  http: Http;
  retries: number;
  retryDelay: number;
  pollInterval: number;
  /** How long a follower's ping may stay unanswered before it takes the lead. */
  leaderTimeout: number;
  /** Opens a real transport (the facade's own openTransport). */
  open(
    mode: HeyGenStatusListenerMode,
    host: TransportHost,
    retries: number,
    onState: StateListener,
  ): Transport;
  /** This instance became leader or follower. */
  onRole(role: 'leader' | 'follower'): void;
}

/** One instance's membership of its group. */
export interface TabGroup {
  readonly role: 'leader' | 'follower';
  /**
   * The transport the facade gets in every tab: in the leader, its share of the real one; in a
   * follower, the leader's updates and state. Whoever leads, it stays the same object.
   */
  link(host: TransportHost, onState: StateListener): Transport;
  /** changeBackend() in this tab: the group's transport switches. */
  setMode(mode: HeyGenStatusListenerMode): void;
  /** Leave the group; a leader hands over (the next tab in the lock's queue leads at once). */
  dispose(): void;
}

/** The facade's transport of this instance, while it has one. */
interface Link {
  onState: StateListener;
  closed: boolean;
  /** The last state told, so that a repeated `state` message is not a new state. */
  told: string;
}

/** A job a follower watches, as the leader keeps it. */
interface FollowedJob {
  /** When the follower would have polled it first (0: it does not know). */
  dueAt: number;
  /** How soon a poll must read it (ms), for `cancelWhenUnwatched` (Infinity: no such limit). */
  within: number;
}

/**
 * Joins the group of tabs sharing one client's stream (docs/design.md, "Sharing across tabs").
 *
 * Leader: runs the real transport while any tab of the group watches an unfinished job, on the
 * union of every tab's ids, and posts each update with the stream's last event id. Followers:
 * post what they watch, apply what they hear, and keep the last event id; one that watches
 * pings a leader it has not heard from for `leaderTimeout / 2` and steals the lock when the ping
 * stays unanswered for `leaderTimeout` (a frozen leader). A leader that closes releases the lock
 * itself: the next tab in the queue leads at once and resumes with the last event id.
 */
export const createTabGroup = (config: TabGroupConfig): TabGroup => {
  const { platform, http, leaderTimeout } = config;
  const { log } = http;
  const me = crypto.randomUUID();
  let role: 'leader' | 'follower' = 'follower';
  let disposed = false;
  let mode = config.mode;
  /** The last event id of the group's stream, heard from the leader or seen as leader. */
  let lastEventId: string | undefined;
  /** The facade's host: its registry takes every update, watched or not (a cache). */
  let localHost: TransportHost | undefined;
  let local: Link | undefined;

  // The leader's side.
  let real: Transport | undefined;
  let realState: TransportState | undefined;
  /**
   * What each follower watches, with what it knows of each job; a finished or missing id leaves
   * every map.
   */
  const followers = new Map<string, Map<number, FollowedJob>>();
  let idleCheck = false;

  // A follower's side.
  let leaderState: TransportState | undefined;
  // On a clock that only moves forward: a wall clock set back kept a frozen leader in place.
  let lastHeard = elapsedNow();
  /** When the last question (`watch` or `ping`) went out; answered once lastHeard passes it. */
  let askedAt = 0;
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  const localIds = (): number[] => localHost?.ids() ?? [];
  const mine = (ids: number[]): number[] => {
    const watched = new Set(localIds());
    return ids.filter((id) => watched.has(id));
  };

  const post = (body: TabBody): void => {
    if (disposed) return;
    try {
      channel.post(encode(me, body));
    } catch (error) {
      log(`tabs: could not post ${body.type}: ${String(error)}`);
    }
  };

  const tellLocal = (state: TransportState): void => {
    const link = local;
    if (!link || link.closed) return;
    const told = JSON.stringify(toWireState(state));
    if (told === link.told) return;
    link.told = told;
    if (state.state === 'closed') {
      link.closed = true;
      local = undefined;
    }
    link.onState(state);
  };

  const connecting = (): TransportState => {
    const known = role === 'leader' ? realState : leaderState;
    const transport =
      known && 'transport' in known ? known.transport : mode === 'poll' ? 'poll' : 'sse';
    return { state: 'connecting', transport, attempt: 0 };
  };

  // ---- leader ----

  const union = (): number[] => {
    const ids = new Set(localIds());
    for (const watched of followers.values()) for (const id of watched.keys()) ids.add(id);
    return [...ids];
  };

  const forget = (ids: number[]): void => {
    for (const watched of followers.values()) for (const id of ids) watched.delete(id);
    scheduleIdle();
  };

  const answer = (): void =>
    post({ type: 'state', mode, ...(realState && { state: toWireState(realState) }) });

  const hooks: GroupHostHooks = {
    ids: union,
    // A follower's job is first polled when the follower would have polled it, not at once…
    dueAt: (id) => {
      let dueAt = localHost?.dueAt(id) || Infinity;
      for (const watched of followers.values())
        dueAt = Math.min(dueAt, watched.get(id)?.dueAt || dueAt);
      return dueAt === Infinity ? 0 : dueAt;
    },
    // …and one that the server cancels once unwatched is polled in time for it.
    watchWithin: (id) => {
      let within = localHost?.watchWithin?.(id) ?? Infinity;
      for (const watched of followers.values())
        within = Math.min(within, watched.get(id)?.within ?? within);
      return within;
    },
    // Posted before the local registry runs listeners: a listener may dispose this instance.
    update: (job, id) => {
      if (id) lastEventId = id;
      post({ type: 'job', job, ...(id ? { lastEventId: id } : {}) });
      if (isFinished(job)) forget([job.id]);
      localHost?.update(job);
    },
    missing: (ids) => {
      post({ type: 'missing', ids });
      forget(ids);
      const watched = mine(ids);
      if (watched.length) localHost?.missing(watched);
    },
    error: (error, ids) => {
      post({ type: 'error', ids, error: toWireError(error) });
      tellError(error, ids);
    },
    snapshot: (jobs, id) => {
      if (id) lastEventId = id;
      post({ type: 'snapshot', jobs, ...(id ? { lastEventId: id } : {}) });
      localHost?.snapshot(jobs);
    },
  };

  const tellError = (error: HeyGenError, ids: number[]): void => {
    const watched = mine(ids);
    if (watched.length) localHost?.error(error, watched);
  };

  const startReal = (): void => {
    const host = createGroupHost(http, config, lastEventId, hooks);
    const transport = config.open(mode, host, config.retries, (state) => {
      if (transport !== real) return;
      realState = state;
      if (state.state === 'closed') {
        // Given up: every tab's waits learn why; a later watch starts afresh.
        real = realState = undefined;
        followers.clear();
      }
      post({ type: 'state', mode, state: toWireState(state) });
      tellLocal(state);
    });
    real = transport;
    transport.start();
  };

  const ensureReal = (): void => {
    if (role !== 'leader' || disposed) return;
    if (real) real.wake();
    else if (union().length) startReal();
  };

  const closeReal = (): void => {
    const transport = real;
    real = realState = undefined;
    transport?.close();
  };

  /** Like the facade's idle check: no tab watches anything unfinished, so no connection. */
  const scheduleIdle = (): void => {
    if (idleCheck) return;
    idleCheck = true;
    queueMicrotask(() => {
      idleCheck = false;
      if (role === 'leader' && real && !union().length) closeReal();
    });
  };

  /** The new transport starts before the old one stops, as in the facade's changeBackend. */
  const switchReal = (): void => {
    const old = real;
    real = realState = undefined;
    ensureReal();
    old?.close();
  };

  const lead = (): void => {
    if (disposed) return;
    role = 'leader';
    clearTimeout(watchdog);
    watchdog = undefined;
    leaderState = undefined;
    log('tabs: leading');
    config.onRole('leader');
    post({ type: 'leader', mode });
    ensureReal();
  };

  const stepDown = (): void => {
    if (role !== 'leader') return;
    role = 'follower';
    closeReal();
    followers.clear();
    lastHeard = elapsedNow();
    log('tabs: following');
    config.onRole('follower');
    if (local) postWatch();
  };

  // ---- follower ----

  /** Tells the leader what this tab watches; the answer (`state`) shows it is alive. */
  const postWatch = (): void => {
    const ids = localIds();
    const now = elapsedNow();
    const due: Array<[number, number]> = [];
    const within: Array<[number, number]> = [];
    for (const id of ids) {
      // In ms from now: tabs never compare clocks.
      const dueAt = localHost?.dueAt(id) ?? 0;
      if (dueAt) due.push([id, Math.max(0, dueAt - now)]);
      const ms = localHost?.watchWithin?.(id) ?? Infinity;
      if (ms < Infinity) within.push([id, ms]);
    }
    post({ type: 'watch', ids, ...(due.length && { due }), ...(within.length && { within }) });
    askedAt = elapsedNow();
    startWatchdog();
  };

  const heard = (): void => {
    lastHeard = elapsedNow();
  };

  const startWatchdog = (): void => {
    if (watchdog !== undefined || role !== 'follower' || !local || disposed) return;
    watchdog = setTimeout(tick, leaderTimeout / 4);
  };

  const tick = (): void => {
    watchdog = undefined;
    if (role !== 'follower' || !local || disposed) return;
    const now = elapsedNow();
    if (askedAt > lastHeard) {
      if (now - askedAt >= leaderTimeout) {
        log(`tabs: the leader did not answer for ${leaderTimeout} ms: taking the lead`);
        lastHeard = now; // one steal at a time
        election.steal();
      }
    } else if (now - lastHeard >= leaderTimeout / 2) {
      post({ type: 'ping' });
      askedAt = now;
    }
    startWatchdog();
  };

  const receive = (data: unknown): void => {
    if (disposed) return;
    let message: TabMessage;
    try {
      message = parseMessage(data);
    } catch (error) {
      log(`tabs: ignored a message from another tab (${(error as Error).message})`);
      return;
    }
    if (message.from === me) return;
    switch (message.type) {
      case 'leader':
        // The lock decides who leads: a leader whose lock was stolen hears it from the election
        // (depose), so a word from another tab, late or forged, never makes it step down.
        if (role === 'leader') return;
        mode = message.mode;
        heard();
        if (local) postWatch();
        return;
      case 'state':
        if (role === 'leader') return; // the late word of a leader we replaced
        mode = message.mode;
        heard();
        if (message.state) {
          leaderState = fromWireState(message.state);
          tellLocal(leaderState);
        }
        return;
      case 'job':
        if (role === 'follower') heard();
        if (message.lastEventId) lastEventId = message.lastEventId;
        localHost?.update(message.job);
        return;
      case 'snapshot':
        if (role === 'follower') heard();
        if (message.lastEventId) lastEventId = message.lastEventId;
        localHost?.snapshot(message.jobs);
        return;
      case 'missing': {
        heard();
        const watched = mine(message.ids);
        if (watched.length) localHost?.missing(watched);
        return;
      }
      case 'error':
        heard();
        tellError(fromWireError(message.error), message.ids);
        return;
      case 'watch':
        if (role !== 'leader') return;
        if (message.ids.length) {
          const now = elapsedNow();
          const due = new Map(message.due);
          const within = new Map(message.within);
          const jobs = message.ids.map((id): [number, FollowedJob] => [
            id,
            { dueAt: due.has(id) ? now + due.get(id)! : 0, within: within.get(id) ?? Infinity },
          ]);
          followers.set(message.from, new Map(jobs));
        } else followers.delete(message.from);
        ensureReal();
        scheduleIdle();
        answer();
        return;
      case 'ping':
        if (role === 'leader') answer();
        return;
      case 'mode':
        if (message.mode === mode) return;
        mode = message.mode;
        if (role === 'leader') switchReal();
        return;
      case 'leave':
        followers.delete(message.from);
        scheduleIdle();
        if (role === 'follower') {
          if (message.lastEventId) lastEventId = message.lastEventId;
          heard(); // the next in the lock's queue is about to lead
        }
        return;
    }
  };

  const channel = platform.channel(config.name, receive);
  const election = createElection(platform.locks, config.name, { lead, depose: stepDown });

  return {
    get role() {
      return role;
    },
    link: (host, onState) => {
      localHost = host;
      const link: Link = { onState, closed: false, told: '' };
      return {
        start: () => {
          if (link.closed || disposed) return;
          local = link;
          if (role === 'leader') {
            tellLocal(realState ?? connecting());
            ensureReal();
          } else {
            tellLocal(connecting());
            postWatch();
          }
        },
        wake: () => {
          if (local !== link) return;
          if (role === 'leader') ensureReal();
          else postWatch();
        },
        close: () => {
          if (link.closed) return;
          link.closed = true;
          if (local !== link) return;
          local = undefined;
          if (role === 'leader') scheduleIdle();
          else post({ type: 'watch', ids: [] });
        },
      };
    },
    setMode: (next) => {
      // Every tab of an app may pass on one choice (the dashboard does): switch once.
      if (next === mode) return;
      mode = next;
      post({ type: 'mode', mode: next });
      if (role === 'leader') switchReal();
    },
    dispose: () => {
      if (disposed) return;
      if (role === 'leader') closeReal();
      post({ type: 'leave', ...(lastEventId ? { lastEventId } : {}) });
      disposed = true;
      local = undefined;
      clearTimeout(watchdog);
      election.resign();
      channel.close();
    },
  };
};
