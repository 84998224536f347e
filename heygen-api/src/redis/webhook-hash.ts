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
 * Lua: `has_pending_delivery(H)` is true when one of the deliveries (`d:<deliveryId>` fields) of
 * the webhook hash H is still `pending`: its retries are under way, so the hash must stay.
 */
export const LUA_HAS_PENDING_DELIVERY = `
local function has_pending_delivery(H)
  local all = redis.call('HGETALL', H)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'd:' and cjson.decode(all[i + 1]).state == 'pending' then return true end
  end
  return false
end
`;
