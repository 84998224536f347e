import { backoff } from '../backoff.js';
import { elapsedNow } from '../delay.js';
import type { HeyGenError } from '../errors/heygen-error.js';
import type { StateListener, Transport, TransportFactory, TransportHost } from './transport.js';

/**
 * How long a stream in charge must have lasted, at least, to count as healthy when it drops: a
 * server announcing short heartbeats must not make every short-lived stream reset the backoff.
 */
const HEALTHY_STREAM_MS = 30_000;

/**
 * SSE with a fallback (`fallback: true`): on the first disruption of the stream it switches to
 * POLL at once, then tries a new stream in the background with backoff and, once that one is
 * connected, stops polling. The new stream starts before polling stops, so no update falls into
 * a gap. Gives up (reports `closed`) only when polling does.
 */
export const createFailoverTransport = (
  host: TransportHost,
  stream: TransportFactory,
  poll: TransportFactory,
  retries: number,
  onState: StateListener,
): Transport => {
  const { stats, log } = host.http;
  let closed = false;
  /** The transport delivering now. */
  let active: Transport;
  /** A stream tried in the background while polling. */
  let probe: Transport | undefined;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Probes tried since the last healthy stream, for the backoff. */
  let probes = 0;
  /** When the stream in charge took over: one that fails within a heartbeat was not healthy. */
  let streamSince = 0;

  /**
   * A stream, created with no retries: any failure of the stream in charge means fall back, of a
   * probe, try again later. A probe that connects takes charge.
   */
  const openStream = (probing: boolean): Transport => {
    const created = stream(0, (state) => {
      if (probing) {
        if (state.state === 'open') {
          probing = false;
          upgrade(created);
        } else if (state.state === 'closed') {
          probe = undefined;
          scheduleProbe();
        }
      } else if (state.state === 'closed') fallBack(state.error);
      else onState(state);
    });
    return created;
  };

  const fallBack = (error: HeyGenError | undefined): void => {
    stats.fallbacks++;
    log(`fallback to POLL: ${error?.message}`);
    active = poll(retries, (state) => {
      if (state.state === 'closed') transport.close();
      onState(state);
    });
    active.start();
    // A stream that connects and drops soon must not make probing faster: no SSE↔POLL flapping.
    if (elapsedNow() - streamSince >= Math.max(host.heartbeatMs, HEALTHY_STREAM_MS)) probes = 0;
    scheduleProbe();
  };

  const scheduleProbe = (): void => {
    if (closed) return;
    probeTimer = setTimeout(
      () => {
        probe = openStream(true);
        probe.start();
      },
      backoff(++probes, host.retryDelay),
    );
  };

  /** The probe streams already, so stopping POLL now leaves no gap. */
  const upgrade = (stream: Transport): void => {
    probe = undefined;
    active.close();
    active = stream;
    streamSince = elapsedNow();
    stats.upgrades++;
    log('back to SSE');
    onState({ state: 'open', transport: 'sse' });
  };

  const transport: Transport = {
    start: () => {
      active = openStream(false);
      active.start();
    },
    wake: () => active.wake(),
    close: () => {
      closed = true;
      clearTimeout(probeTimer);
      probe?.close();
      active.close();
    },
  };
  return transport;
};
