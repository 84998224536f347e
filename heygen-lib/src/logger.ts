/** Writes one timestamped, prefixed line; a no-op unless logging is on. */
export type Log = (message: string) => void;

/** `true` logs to the console; a function receives each message instead (to tag or route it). */
export const createLogger =
  (logging: boolean | Log | undefined): Log =>
  (message) => {
    try {
      if (typeof logging == 'function') logging(message);
      else if (logging) console.log(`${new Date().toISOString()} [heygen] ${message}`);
    } catch {
      // A logger that throws has nobody to tell; the library logs from everywhere, and must go on.
    }
  };
