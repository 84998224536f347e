import { describe, expect, it } from 'vitest';
import { jobsNamed, RequestLog } from './requests.js';

const U = 'uuid=4085ba7e-f551-4e86-a1fe-f09ff719e65e';

describe(jobsNamed.name, () => {
  it.each([
    [`GET /status/7?${U} HTTP/1.1`, [7]],
    [`POST /cancel/7?${U} HTTP/1.1`, []],
    [`GET /status?${U}&ids=1,22,3 HTTP/1.1`, [1, 22, 3]],
    [`GET /status?ids=4%2C5&${U} HTTP/1.1`, [4, 5]],
    [`GET /status?${U} HTTP/1.1`, []],
    [`POST /create?${U} HTTP/1.1`, []],
  ])('should read the jobs %s names', (line, ids) => {
    expect(jobsNamed(line)).toEqual(ids);
  });
});

describe(RequestLog.name, () => {
  const logStub = () => {
    let now = 1000;
    const log = new RequestLog(() => now);
    const add = (line: string, stream: boolean, instance: string): void => {
      now += 10;
      log.add(line, stream, instance);
    };
    return { log, add, at: () => now };
  };

  it('should name the instance that carried a status: the stream, or the poll naming the job', () => {
    const { log, add } = logStub();
    add(`POST /create?${U} HTTP/1.1`, false, 'api-1');
    add(`GET /status?${U} HTTP/1.1`, true, 'api-2');
    add(`GET /status?${U}&ids=1 HTTP/1.1`, false, 'api-3');
    add(`GET /status?${U}&ids=2 HTTP/1.1`, false, 'api-1');
    expect(log.lastCreate()).toBe('api-1');
    expect(log.carrierOf(1, 'sse')).toBe('api-2');
    expect(log.carrierOf(1, 'poll')).toBe('api-3');
    expect(log.carrierOf(2, 'poll')).toBe('api-1');
    // A job no request named: the newest request that was not a stream.
    expect(log.carrierOf(9, undefined)).toBe('api-1');
    expect(log.last()).toBe('api-1');
  });

  it('should find the first stream since a time, and count what each instance served', () => {
    const { log, add, at } = logStub();
    add(`GET /status?${U} HTTP/1.1`, true, 'api-1');
    const killedAt = at() + 1;
    add(`GET /status?${U}&ids=1 HTTP/1.1`, false, 'api-2');
    add(`GET /status?${U} HTTP/1.1`, true, 'api-2');
    expect(log.firstStreamSince(killedAt)).toMatchObject({ instance: 'api-2', stream: true });
    expect(log.firstStreamSince(at() + 1)).toBeUndefined();
    expect(log.countFor('api-1')).toEqual({ requests: 1, streams: 1 });
    expect(log.countFor('api-2')).toEqual({ requests: 2, streams: 1 });
    expect(log.countFor('api-3')).toEqual({ requests: 0, streams: 0 });
  });
});
