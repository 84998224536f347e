/**
 * Delay before retry number `attempt` (1-based): exponential from `base`, capped at 30 s, with
 * jitter (50–100 %) so that many clients cut off together do not come back together.
 */
export const backoff = (attempt: number, base: number): number =>
  Math.min(30_000, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
