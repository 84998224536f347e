/**
 * The `Cancel-After` duration (docs/protocol.md, "Deadlines"): bare seconds (`90`, `2.5`), or one
 * or more `<number><unit>` parts with units `h`, `m`, `s`, `ms`, largest first, each at most once
 * (`1h30m`, `90s`, `1500ms`), as Replicate's `Cancel-After` and Go's durations read.
 */
const BARE_SECONDS = /^\d+(?:\.\d+)?$/;
const PARTS =
  /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;
const UNIT_MS = [3_600_000, 60_000, 1000, 1] as const;

/** Longer text is refused before any pattern runs: no duration worth a header needs more. */
const MAX_LENGTH = 32;

/** The longest `Cancel-After` accepted: a day, MAX_JOB_TIME_MS's own upper bound. */
export const MAX_CANCEL_AFTER_MS = 86_400_000;

/**
 * `text` as whole milliseconds (rounded to the nearest), or undefined when it is not a duration of
 * the grammar above. Zero parses (as 0); a sign never does, so a negative duration is malformed.
 */
export function parseDuration(text: string): number | undefined {
  if (text.length === 0 || text.length > MAX_LENGTH) return undefined;
  if (BARE_SECONDS.test(text)) return Math.round(Number(text) * 1000);
  const parts = PARTS.exec(text);
  if (!parts) return undefined;
  let ms = 0;
  let any = false;
  for (const [index, unitMs] of UNIT_MS.entries()) {
    const value = parts[index + 1];
    if (value === undefined) continue;
    any = true;
    ms += Number(value) * unitMs;
  }
  return any ? Math.round(ms) : undefined;
}
