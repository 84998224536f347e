// heygen-lib/tabs: the main entry, with a HeyGenAPI that shares one client id and one stream
// between the tabs of an origin (issue 12). The explicit export below shadows the star export.
import { HeyGenAPI as SoloHeyGenAPI } from './heygen-api.js';
import { createHttp } from './http.js';
import { createLogger } from './logger.js';
import { check, isFunction, validateOptions } from './validate-options.js';
import { createTabGroup, type TabGroup, type TabRole } from './tabs/group.js';
import { browserPlatform, groupName, keyTag, sharedClientId, storageKey } from './tabs/platform.js';
import type { StateListener, Transport, TransportHost } from './transports/transport.js';
import type {
  ChannelStats,
  HeyGenAPIOptions,
  HeyGenStats,
  HeyGenStatusListenerMode,
} from './types.js';

export * from './index.js';
export type { TabRole } from './tabs/group.js';

/** Options of the tabs entry's {@link HeyGenAPI}: the main entry's, and how tabs share. */
export interface HeyGenAPITabsOptions extends HeyGenAPIOptions {
  /**
   * Share one client id (kept in `localStorage`) and one stream (or polling) with every
   * instance of this origin that has the same `url` and `tabsKey`. Where Web Locks,
   * BroadcastChannel or `localStorage` are missing (Node, old browsers), and with `false`, the
   * instance works alone, exactly like the main entry's HeyGenAPI. A `clientId` given here is
   * used instead of the stored one (tabs share only with the same id).
   * @default true
   */
  shareAcrossTabs?: boolean;
  /**
   * Separates groups of one origin and server (for instance one per signed-in user): tabs with
   * different keys keep different client ids and streams.
   * @default ''
   */
  tabsKey?: string;
  /**
   * How a frozen leader is found: a follower that watches a job and has heard nothing from the
   * leader for half this long asks it; unanswered for this long, it takes the lead (steals the
   * lock). A leader that closes is replaced at once, whatever this is.
   * @default 500
   */
  leaderTimeout?: number;
  /** Hears this instance become `leader`, `follower`, or `alone` (after dispose()). */
  onRoleChange?: (role: TabRole) => void;
}

const sum = (a: ChannelStats, b: ChannelStats): ChannelStats => ({
  requests: a.requests + b.requests,
  bytes: a.bytes + b.bytes,
  streams: a.streams + b.streams,
});

/**
 * A client shared across tabs: the instances of one origin elect a leader (Web Locks), which
 * holds the one stream or polling and passes every update to the others (BroadcastChannel).
 * Every method keeps its meaning in every tab; `state` in a follower mirrors the leader's
 * transport, and `role` tells which part this instance plays.
 *
 * @example
 * ```ts
 * import { HeyGenAPI, HeyGenStatusListenerMode } from 'heygen-lib/tabs';
 *
 * const heygen = new HeyGenAPI({ url: 'https://api.example.com', mode: HeyGenStatusListenerMode.AUTO });
 * const job = await heygen.waitForJob(await heygen.createJob()); // one stream for all tabs
 * ```
 */
export class HeyGenAPI extends SoloHeyGenAPI {
  readonly #group: TabGroup | undefined;
  readonly #groupStats: HeyGenStats | undefined;
  readonly #hooks: Pick<HeyGenAPITabsOptions, 'onRoleChange' | 'onError'>;
  #role: TabRole = 'alone';

  /**
   * @param options - the main entry's options and {@link HeyGenAPITabsOptions}' own
   * @throws TypeError naming the first option that is missing or of the wrong type or range
   */
  constructor(options: HeyGenAPITabsOptions) {
    // Before anything is read or stored: a wrong option is a TypeError, not a client id kept for
    // `undefined` (review of 2026-12-01).
    validateOptions(options);
    check(options, 'shareAcrossTabs', (value) => typeof value === 'boolean', 'true or false');
    check(options, 'tabsKey', (value) => typeof value === 'string', 'a string');
    check(
      options,
      'leaderTimeout',
      (value) => typeof value === 'number' && value >= 20 && value < 2 ** 31,
      'a number of ms ≥ 20',
    );
    check(options, 'onRoleChange', isFunction, 'a function');
    const { shareAcrossTabs = true, tabsKey = '', leaderTimeout = 500 } = options;
    const platform = shareAcrossTabs ? browserPlatform() : undefined;
    // One server however it is written (`…/api`, `…/api/`, relative): one client, one group.
    const server = new URL(options.url, globalThis.location?.href).href.replace(/\/+$/, '');
    // Tabs with other API keys are other clients: other groups, other stored client ids.
    const tag = keyTag(options.apiKey);
    const clientId =
      platform &&
      (options.clientId ??
        sharedClientId(platform.storage, storageKey(server, `${tabsKey}${tag}`)));
    super(clientId ? { ...options, clientId } : options);
    this.#hooks = options;
    if (!platform || !clientId) return;
    const http = createHttp(
      options.url,
      clientId,
      options.fetch ?? ((input, init) => fetch(input, init as RequestInit)),
      createLogger(options.logging),
      options,
    );
    this.#groupStats = http.stats;
    this.#group = createTabGroup({
      name: `${groupName(server, clientId)}${tag}`,
      platform,
      mode: options.mode,
      http,
      retries: options.maxRetries ?? 5,
      retryDelay: options.retryDelay ?? 500,
      pollInterval: options.pollInterval ?? 1000,
      leaderTimeout,
      open: (mode, host, retries, onState) => super.openTransport(mode, host, retries, onState),
      onRole: (role) => this.#setRole(role),
    });
    this.#role = this.#group.role;
  }

  /** This instance's part in sharing: `leader`, `follower`, or `alone`. */
  get role(): TabRole {
    return this.#role;
  }

  /**
   * Switch how status is tracked, keeping every listener: with sharing on, the group's one
   * transport switches, for every tab.
   */
  override changeBackend(mode: HeyGenStatusListenerMode): void {
    super.changeBackend(mode);
    this.#group?.setMode(mode);
  }

  /**
   * What status tracking has cost this tab: while it leads, the group's stream or polling is
   * counted here (a follower's own `sse` and `poll` stay at 0).
   */
  override stats(): HeyGenStats {
    const own = super.stats();
    const group = this.#groupStats;
    if (!group) return own;
    return {
      sse: sum(own.sse, group.sse),
      poll: sum(own.poll, group.poll),
      api: sum(own.api, group.api),
      fallbacks: own.fallbacks + group.fallbacks,
      upgrades: own.upgrades + group.upgrades,
    };
  }

  /**
   * Close every connection, request and timer of this instance; a leader hands the group's
   * stream over (the next tab leads at once and resumes with `Last-Event-ID`).
   */
  override dispose(): void {
    super.dispose();
    if (!this.#group || this.#role === 'alone') return;
    this.#group.dispose();
    this.#setRole('alone');
  }

  /** @internal */
  protected override openTransport(
    mode: HeyGenStatusListenerMode,
    host: TransportHost,
    retries: number,
    onState: StateListener,
  ): Transport {
    return this.#group
      ? this.#group.link(host, onState)
      : super.openTransport(mode, host, retries, onState);
  }

  #setRole(role: TabRole): void {
    this.#role = role;
    const { onRoleChange, onError } = this.#hooks;
    try {
      onRoleChange?.(role);
    } catch (error) {
      try {
        onError?.(error);
      } catch {
        // The hook itself threw: nobody is left to tell.
      }
    }
  }
}
