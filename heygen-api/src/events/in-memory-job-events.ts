import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { type Job } from '../domain/job.js';
import { type JobEvent, type JobEventListener, type JobEvents } from './job-events.js';
import { ReplayLog } from './replay-log.js';

/**
 * Fan-out inside one process. Subscribers are indexed by client, so publishing costs the number of
 * that client's streams, not the number of all streams.
 */
@Injectable()
export class InMemoryJobEvents implements JobEvents {
  private readonly log: ReplayLog<JobEvent>;
  private readonly subscribers = new Map<string, Set<JobEventListener>>();
  private subscriptions = 0;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.log = new ReplayLog(config.replayLogSize);
  }

  publish(clientId: string, job: Job): Promise<JobEvent> {
    const event: JobEvent = { id: String(this.log.head + 1), clientId, job };
    this.log.append(event);
    for (const listener of this.subscribers.get(clientId) ?? []) listener(event);
    return Promise.resolve(event);
  }

  subscribe(clientId: string, listener: JobEventListener): () => void {
    let listeners = this.subscribers.get(clientId);
    if (!listeners) {
      listeners = new Set();
      this.subscribers.set(clientId, listeners);
    }
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const subscription: JobEventListener = (event) => listener(event);
    listeners.add(subscription);
    this.subscriptions += 1;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscriptions -= 1;
      listeners.delete(subscription);
      if (listeners.size === 0) this.subscribers.delete(clientId);
    };
  }

  replay(clientId: string, afterId: string): Promise<JobEvent[] | undefined> {
    const seq = /^\d{1,15}$/.test(afterId) ? Number(afterId) : NaN;
    const events = this.log.since(seq)?.filter((event) => event.clientId === clientId);
    return Promise.resolve(events);
  }

  head(): Promise<string> {
    return Promise.resolve(String(this.log.head));
  }

  subscriptionCount(): number {
    return this.subscriptions;
  }
}
