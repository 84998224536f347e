/**
 * A job's webhook in Redis: the hash `<prefix>{<client>}:webhook:<id>` and its attempts list
 * (webhooks/redis-webhook-state.ts writes them). Shared by the webhook state, which keeps a settled
 * webhook only as long as its job, and the store, whose scripts delete a settled webhook with the
 * job they forget.
 */

/** The job's webhook hash; its attempts list is this key and `:attempts`. */
export function webhookKey(prefix: string, clientId: string, jobId: number): string {
  // The client in braces, as the job store's keys: one client's keys share a hash slot, and the
  // store's scripts find a forgotten job's webhook from its own keys' name.
  return `${prefix}{${clientId}}:webhook:${jobId}`;
}

/**
 * Lua: `pending_deliveries(H)` counts the deliveries (`d:<deliveryId>` fields) of the webhook hash
 * H that are still `pending`: their retries are under way, so the hash stays, unless the job's
 * eviction gives them up.
 */
export const LUA_PENDING_DELIVERIES = `
local function pending_deliveries(H)
  local all, pending = redis.call('HGETALL', H), 0
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'd:' and cjson.decode(all[i + 1]).state == 'pending' then
      pending = pending + 1
    end
  end
  return pending
end
`;
