import type { LocksLike } from './election.js';
import { PROTOCOL_VERSION } from './protocol.js';

/** One open BroadcastChannel, as the group uses it. */
export interface ChannelLike {
  post(data: unknown): void;
  close(): void;
}

/** What sharing needs of the platform; tests pass fakes. */
export interface TabsPlatform {
  locks: LocksLike;
  /** Opens the channel `name`; `receive` hears every message other instances post on it. */
  channel(name: string, receive: (data: unknown) => void): ChannelLike;
  /** Where the shared client id is kept (`localStorage`). */
  storage: Pick<Storage, 'getItem' | 'setItem'>;
}

interface BrowserGlobals {
  navigator?: { locks?: LocksLike };
  BroadcastChannel?: typeof BroadcastChannel;
  localStorage?: Storage;
}

/**
 * Web Locks, BroadcastChannel and localStorage of this runtime, or undefined when one is missing
 * (Node, old browsers, storage blocked): then each instance works alone.
 */
export const browserPlatform = (): TabsPlatform | undefined => {
  const scope = globalThis as BrowserGlobals;
  const locks = scope.navigator?.locks;
  const Channel = scope.BroadcastChannel;
  let storage: Storage | undefined;
  try {
    storage = scope.localStorage; // throws where storage is blocked
  } catch {
    return undefined;
  }
  if (!locks || !Channel || !storage) return undefined;
  return {
    locks,
    storage,
    channel: (name, receive) => {
      const channel = new Channel(name);
      channel.onmessage = (event) => receive(event.data);
      // A message that cannot be deserialized is garbage too: parseMessage refuses undefined.
      channel.onmessageerror = () => receive(undefined);
      return { post: (data) => channel.postMessage(data), close: () => channel.close() };
    },
  };
};

/** [RFC 9562] What the server accepts as a client id. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The client id every tab of the group uses, kept in storage under `key`; undefined when storage
 * refuses. Two tabs that open at the same instant on an empty storage may pick two ids: they then
 * form two groups (two streams, each correct) until the next load, when both read the survivor.
 */
export const sharedClientId = (
  storage: TabsPlatform['storage'],
  key: string,
): string | undefined => {
  try {
    const known = storage.getItem(key);
    if (known && UUID.test(known)) return known;
    storage.setItem(key, crypto.randomUUID());
    const kept = storage.getItem(key);
    return kept && UUID.test(kept) ? kept : undefined;
  } catch {
    return undefined;
  }
};

/** The storage key of the shared client id: one per server URL and group key. */
export const storageKey = (url: string, key: string): string =>
  `heygen-lib/tabs client-id ${url} ${key}`;

/**
 * What tells apart the groups of one origin and server beside `tabsKey`: the API key. With keys
 * on, a client is its key and its uuid, so tabs with other keys must share neither (a follower
 * would hear another key's jobs, and its own through the leader's key would be `404`). A short
 * FNV-1a hash: the names are visible to the origin's scripts, which can read the key anyway; the
 * hash only keeps the key itself out of them.
 */
export const keyTag = (apiKey: string | undefined): string => {
  if (!apiKey) return '';
  let hash = 0x811c9dc5;
  for (let i = 0; i < apiKey.length; i++) hash = Math.imul(hash ^ apiKey.charCodeAt(i), 0x01000193);
  return ` key ${(hash >>> 0).toString(16)}`;
};

/**
 * The lock and channel name of a group: the protocol version, the server and the client id, so
 * that tabs of another version or another client never share a stream with this one.
 */
export const groupName = (url: string, clientId: string): string =>
  `heygen-lib/tabs v${PROTOCOL_VERSION} ${url} ${clientId}`;
