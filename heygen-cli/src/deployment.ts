import { type RequestLog } from './requests.js';

/** One heygen-api the run talks to, by the name the logs and the report give it. */
export interface InstanceInfo {
  /** `api-1`…`api-n`. */
  name: string;
  url: string;
  port: number;
  /** Its process, when the run started it (the restarted one's, after a kill). */
  pid?: number;
}

/** The disruption with several instances: which one was killed, why, and what became of it. */
export interface KillEvent {
  instance: string;
  port: number;
  pid: number;
  /** Client clock, ms since the epoch: the signal was sent (the stream had opened before). */
  at: number;
  /** It was killed right after this job (by number, 1-based) was created. */
  afterJob: number;
  /**
   * Why this one: it held the client's event stream, or (no stream open, as in POLL mode) it
   * served the client's last request.
   */
  reason: 'stream' | 'last-request';
  /** The jobs its worker was running, by its `/health` just before the kill. */
  runningJobs?: number;
  /** Restarted when the network healed (same name and port, a new process). */
  restartedAt?: number;
  restartedPid?: number;
  /** Why the restart failed: it stayed down. */
  restartError?: string;
}

/**
 * What the run drives: heygen-api behind the run's proxy, one instance or several on Redis. The
 * library talks to `url` only; the disruption and the heal are the deployment's own.
 */
export interface Deployment {
  /** The proxy's URL: the one the library is given. */
  readonly url: string;
  /** Every request through the proxy, with the instance that served it. */
  readonly requests: RequestLog;
  instances(): InstanceInfo[];
  /**
   * Breaks the network after job `afterJob` is created: one instance's proxy cuts the event
   * streams and refuses new ones; with several, the instance holding the stream is killed.
   */
  disrupt(afterJob: number): Promise<void>;
  /** Mends it: streams pass again, or the killed instance is restarted. */
  heal(): Promise<void>;
  /** The kill, once there was one. */
  readonly kill?: KillEvent | undefined;
}
