/** One request the proxy forwarded: when, which instance it went to, what it asked. */
export interface ServedRequest {
  /** Client clock, ms since the epoch. */
  at: number;
  /** `api-1`…: the instance the request's connection went to. */
  instance: string;
  /** The request line, e.g. `GET /status?uuid=…&ids=1,2 HTTP/1.1`. */
  line: string;
  /** It asked for an event stream. */
  stream: boolean;
}

/** The jobs a request line names: `/status/3` or `ids=1,2` (commas plain or encoded). */
export function jobsNamed(line: string): number[] {
  const single = /^[A-Z]+ \/status\/(\d+)(?:[?#\s]|$)/.exec(line);
  if (single) return [Number(single[1])];
  const ids = /[?&]ids=([^&#\s]+)/.exec(line);
  if (!ids) return [];
  return ids[1]!
    .split(/,|%2C/i)
    .filter((id) => /^\d+$/.test(id))
    .map(Number);
}

/**
 * Every request the proxy forwarded, in order, with the instance that served it: what the report
 * uses to say which instance carried each job's statuses. A connection stays with one instance,
 * so each request is served by the instance its connection went to.
 */
export class RequestLog {
  readonly requests: ServedRequest[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  add(line: string, stream: boolean, instance: string): void {
    this.requests.push({ at: this.now(), instance, line, stream });
  }

  /** The newest request matching `test`, if any. */
  private newest(test: (request: ServedRequest) => boolean): ServedRequest | undefined {
    for (let i = this.requests.length - 1; i >= 0; i--) {
      if (test(this.requests[i]!)) return this.requests[i];
    }
    return undefined;
  }

  /**
   * The instance that carried a status of job `id` just delivered over `via`: the stream's (the
   * client has one at a time: the newest asked for), or the newest request naming the job (a poll
   * asks once per tick, and its answer is what was just delivered).
   */
  carrierOf(id: number, via: string | undefined): string | undefined {
    if (via === 'sse') return this.newest((request) => request.stream)?.instance;
    return (
      this.newest((request) => !request.stream && jobsNamed(request.line).includes(id)) ??
      this.newest((request) => !request.stream)
    )?.instance;
  }

  /** The instance of the newest `POST /create`: the one that created the job just returned. */
  lastCreate(): string | undefined {
    return this.newest((request) => request.line.startsWith('POST /create'))?.instance;
  }

  /** The instance of the newest request of any kind. */
  last(): string | undefined {
    return this.requests.at(-1)?.instance;
  }

  /** The first stream asked for at or after `time`: where a stream went after a disruption. */
  firstStreamSince(time: number): ServedRequest | undefined {
    return this.requests.find((request) => request.stream && request.at >= time);
  }

  /** Requests and streams served by `instance`. */
  countFor(instance: string): { requests: number; streams: number } {
    let requests = 0;
    let streams = 0;
    for (const request of this.requests) {
      if (request.instance !== instance) continue;
      requests += 1;
      if (request.stream) streams += 1;
    }
    return { requests, streams };
  }
}
