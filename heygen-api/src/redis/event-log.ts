/**
 * A client's event log in Redis: its Stream, and the pub/sub channel of the same name that wakes the
 * instances streaming the client (docs/design.md, "Events: a Redis Stream per client"). Shared by
 * the events (which read it, and publish on their own) and the store, whose create and update
 * scripts append the change's event in the same script as the change: a change is never stored
 * without its event, even when the instance dies right after (docs/design.md, "A change and its
 * event: one script").
 */

/** The client's stream (also its channel) and its head-since key: one hash slot with the store's. */
export function eventLogKeys(
  prefix: string,
  clientId: string,
): [stream: string, headSince: string] {
  const base = `${prefix}{${clientId}}`;
  return [`${base}:events`, `${base}:head-since`];
}

/** The deployment's index of last positions (see LUA_APPEND_EVENT's index_position). */
export const positionsKey = (prefix: string): string => `${prefix}positions`;

/**
 * Lua (needs LUA_NOW's fmt): `append_event(S, HS, job, keep, ttl, now, kept, position, P, cap)`,
 * `now` being Redis's clock in ms (now_ms), appends `job` (the job's JSON without `eventId`, which it
 * adds) to the stream S with the next id of the client's sequence as the entry id (`<n>-0`), keeps
 * at most `keep` entries, keeps the stream for good when `kept` (the client has an unfinished job:
 * the store's scripts know) or else at least `ttl` ms after this event, tells the instances
 * streaming this client (PUBLISH on the channel S: `<id> <job>`), and returns the id.
 *
 * The stream's `max-deleted-entry-id` is the floor of resume: the last entry trimmed, or for a
 * stream begun afresh the client's last position (HS), else the clock minus one, so that no id of
 * a forgotten sequence resumes on it and its last position does.
 *
 * HS is the client's last position, kept `position` ms (POSITION_RETENTION_MS, a day by default)
 * longer than its stream: its latest event's id, or, before its first, the earliest head handed
 * out (the events' HEAD). A stream begun afresh continues the sequence from it. A client whose
 * stream expired then resumes from its latest id, as the memory driver's retired clients do
 * (review of 2026-12-01: catching up from it answered 410 for good).
 *
 * Once the client has no unfinished job (not `kept`), its last position is counted in the
 * deployment's index P (head-since key → when it expires), which keeps at most `cap`
 * (MAX_RETAINED_POSITIONS) of them, as the memory driver keeps at most so many retired clients:
 * past it, the position expiring first goes, and its client gets a snapshot instead of a resume
 * once its stream has expired too. Without the count, a flood of fresh uuids left a position each
 * for a day, whatever the caps (docs/design.md, "MAX_RETAINED_POSITIONS"). Deleting the position
 * of a client that has a job again since it was counted loses nothing: its stream is kept while
 * the job runs, and its next final event sets and counts its position anew.
 */
export const LUA_APPEND_EVENT = `
local function index_position(P, HS, at, now, cap)
  redis.call('ZADD', P, at, HS)
  redis.call('ZREMRANGEBYSCORE', P, '-inf', now)
  local excess = redis.call('ZCARD', P) - cap
  if excess <= 0 then return end
  local popped = redis.call('ZPOPMIN', P, excess)
  for i = 1, #popped, 2 do redis.call('DEL', popped[i]) end
end
local function append_event(S, HS, job, keep, ttl, now, kept, position, P, cap)
  local newest = redis.call('XREVRANGE', S, '+', '-', 'COUNT', 1)
  local last = 0
  local floor
  if newest[1] then
    last = tonumber(string.match(newest[1][1], '^(%d+)'))
  else
    -- Begun afresh: from the client's last position, if it is kept.
    local since = tonumber(redis.call('GET', HS) or (now - 1))
    floor = fmt(math.min(now - 1, since)) .. '-0'
    last = since
  end
  local id = fmt(math.max(last + 1, now))
  -- The job as this event left it names the event (issue 19), as its last field.
  job = string.sub(job, 1, -2) .. ',"eventId":"' .. id .. '"}'
  -- Trimmed by hand, so that the last id trimmed is recorded: resuming is refused at and below it.
  local len = redis.call('XLEN', S)
  if len >= keep then
    local gone = redis.call('XRANGE', S, '-', '+', 'COUNT', len - keep + 1)
    floor = gone[#gone][1]
    redis.call('XTRIM', S, 'MAXLEN', keep - 1)
  end
  redis.call('XADD', S, id .. '-0', 'j', job)
  if floor then redis.call('XSETID', S, id .. '-0', 'MAXDELETEDID', floor) end
  local ttl_ms = math.max(ttl, tonumber(id) - now + 1)
  if kept then redis.call('PERSIST', S) else redis.call('PEXPIRE', S, fmt(ttl_ms)) end
  redis.call('SET', HS, id, 'PX', fmt(ttl_ms + position))
  if not kept then index_position(P, HS, now + ttl_ms + position, now, cap) end
  redis.call('PUBLISH', S, id .. ' ' .. job)
  return id
end
`;

/** How long a stream is kept after its last event, in ms: as long as a finished job, at least 1 s. */
export const eventLogTtlMs = (retentionMs: number): number => Math.max(retentionMs, 1000);
