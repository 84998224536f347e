/** Writes one timestamped, prefixed line; a no-op unless logging is on. */
export type Log = (message: string) => void;

export const createLogger =
  (enabled: boolean | undefined): Log =>
  (message) => {
    if (enabled) console.log(`${new Date().toISOString()} [heygen] ${message}`);
  };
