import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeFetch } from '../../test/support/fakes.js';
import { FakeLocks } from '../../test/support/tabs-fakes.js';
import { HeyGenAPI, type TabRole } from '../tabs.js';

const URL_ = 'http://127.0.0.1:1';
const { fetch } = fakeFetch(() => new Error('no network in unit tests'));

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A page's localStorage, kept in `storage`. */
function stubLocalStorage(storage: Map<string, string>): void {
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => void storage.set(key, value),
  });
}

describe('HeyGenAPI of heygen-lib/tabs', () => {
  it('should work alone, like the main entry, without Web Locks (Node)', () => {
    const storage = new Map<string, string>();
    stubLocalStorage(storage);
    const sut = new HeyGenAPI({ url: URL_, mode: 'poll', fetch });
    const other = new HeyGenAPI({ url: URL_, mode: 'poll', fetch });
    expect(sut.role).toBe('alone');
    expect(sut.clientId).not.toBe(other.clientId);
    expect(storage.size).toBe(0);
    sut.dispose();
    other.dispose();
  });

  it('should share one stored client id and elect one leader where the platform allows', async () => {
    const storage = new Map<string, string>();
    vi.stubGlobal('navigator', { locks: new FakeLocks() });
    stubLocalStorage(storage);
    // Node's own BroadcastChannel connects instances of one process, as tabs of one origin.
    const roles: TabRole[] = [];
    const a = new HeyGenAPI({ url: URL_, mode: 'sse', fetch, onRoleChange: (r) => roles.push(r) });
    const b = new HeyGenAPI({ url: URL_, mode: 'sse', fetch });
    expect(a.clientId).toBe(b.clientId);
    expect([...storage.values()]).toEqual([a.clientId]);
    await vi.waitFor(() => expect([a.role, b.role]).toEqual(['leader', 'follower']));
    a.dispose();
    await vi.waitFor(() => expect(b.role).toBe('leader'));
    expect(roles).toEqual(['leader', 'alone']);
    b.dispose();
    expect(b.role).toBe('alone');
    // Sharing off: alone, whatever the platform offers.
    const c = new HeyGenAPI({ url: URL_, mode: 'sse', fetch, shareAcrossTabs: false });
    expect(c.role).toBe('alone');
    expect(c.clientId).not.toBe(a.clientId);
    c.dispose();
  });

  it('should keep tabs with other API keys apart: other client ids, other leaders', async () => {
    const storage = new Map<string, string>();
    // One lock per name, as the Web Locks API has (FakeLocks alone is one lock).
    const locks = new Map<string, FakeLocks>();
    const lockNamed = (name: string): FakeLocks => {
      if (!locks.has(name)) locks.set(name, new FakeLocks());
      return locks.get(name)!;
    };
    vi.stubGlobal('navigator', {
      locks: {
        request: (...args: Parameters<FakeLocks['request']>) => lockNamed(args[0]).request(...args),
      },
    });
    stubLocalStorage(storage);
    const a = new HeyGenAPI({ url: URL_, mode: 'sse', fetch, apiKey: 'key-a' });
    const b = new HeyGenAPI({ url: URL_, mode: 'sse', fetch, apiKey: 'key-b' });
    const again = new HeyGenAPI({ url: URL_, mode: 'sse', fetch, apiKey: 'key-a' });

    // With keys on, a client is its key and its uuid: b shares nothing with a, a's twin does.
    expect(b.clientId).not.toBe(a.clientId);
    expect(again.clientId).toBe(a.clientId);
    // One leader per key: b leads its own group, a and its twin share one.
    await vi.waitFor(() => {
      expect(b.role).toBe('leader');
      expect([a.role, again.role].sort()).toEqual(['follower', 'leader']);
    });
    expect([...storage.keys()].some((key) => key.includes('key-a'))).toBe(false);
    for (const sut of [a, b, again]) sut.dispose();
  });

  it('should refuse a bad leaderTimeout or tabsKey with a TypeError naming it', () => {
    expect(() => new HeyGenAPI({ url: URL_, mode: 'sse', leaderTimeout: -1 })).toThrow(
      /leaderTimeout/,
    );
    expect(
      () => new HeyGenAPI({ url: URL_, mode: 'sse', tabsKey: 5 as unknown as string }),
    ).toThrow(/tabsKey/);
  });

  it.each([
    ['url', null],
    ['url', { url: 123 }],
    ['url', { url: undefined }],
    ['shareAcrossTabs', { url: URL_, shareAcrossTabs: 'yes' }],
    ['onRoleChange', { url: URL_, onRoleChange: 'x' }],
  ])(
    'should refuse a bad %s with a TypeError naming it, storing nothing (review of 2026-12-01)',
    (option, options) => {
      const storage = new Map<string, string>();
      vi.stubGlobal('navigator', { locks: new FakeLocks() });
      stubLocalStorage(storage);
      expect(() => new HeyGenAPI({ mode: 'sse', ...(options as object) } as never)).toThrow(
        new RegExp(`option ${option} must be`),
      );
      expect(storage.size).toBe(0);
    },
  );

  it('should make one client and one group of one server however its URL is written (review of 2026-12-01)', async () => {
    const storage = new Map<string, string>();
    vi.stubGlobal('navigator', { locks: new FakeLocks() });
    stubLocalStorage(storage);
    const a = new HeyGenAPI({ url: URL_, mode: 'sse', fetch });
    const b = new HeyGenAPI({ url: `${URL_}/`, mode: 'sse', fetch });
    expect(b.clientId).toBe(a.clientId);
    await vi.waitFor(() => expect([a.role, b.role].sort()).toEqual(['follower', 'leader']));
    a.dispose();
    b.dispose();
  });
});
