import { send } from './http.js';

/**
 * The samples of a Prometheus text exposition (`GET /metrics`), by metric name; a metric with
 * labels keeps its first sample. Undefined when the server has no such route (answers non-200):
 * the bench then reads what it can from /proc.
 */
export async function scrapeMetrics(base: string): Promise<Map<string, number> | undefined> {
  const answer = await send(`${base}/metrics`);
  if (answer.status !== 200) return undefined;
  const samples = new Map<string, number>();
  for (const line of answer.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // name{labels} value [timestamp]
    const match = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || samples.has(match[1]!)) continue;
    const value = Number(match[2]);
    if (!Number.isNaN(value)) samples.set(match[1]!, value);
  }
  return samples;
}
