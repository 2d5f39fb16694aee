/**
 * The Lua scripts of the Redis state store (redis.ts): each is one atomic step across processes.
 * Expiries use the Redis server's clock.
 */
const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

export const SCRIPTS = {
  // KEYS: task, _pending, _finished. ARGV: row, status, finished_at ('' = none), uid.
  taskPutIfPending: {
    numberOfKeys: 3,
    lua: `local st = redis.call('HGET', KEYS[1], 'status')
      if st ~= 'enqueued' and st ~= 'processing' then return 0 end
      redis.call('HSET', KEYS[1], 'row', ARGV[1], 'status', ARGV[2], 'finished_at', ARGV[3])
      if ARGV[2] == 'enqueued' or ARGV[2] == 'processing' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[4])
      else redis.call('ZREM', KEYS[2], ARGV[4]) end
      if ARGV[3] ~= '' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4]) end
      return 1`,
  },
  // KEYS: task. ARGV: the cancelation's uid. Sets the mark of a pending task only, never its row.
  taskMarkCancel: {
    numberOfKeys: 1,
    lua: `local st = redis.call('HGET', KEYS[1], 'status')
      if st ~= 'enqueued' and st ~= 'processing' then return 0 end
      redis.call('HSET', KEYS[1], 'cancel_requested_by', ARGV[1])
      return 1`,
  },
  // KEYS: lease, token counter. ARGV: holder, ttl. Returns the new token, or nil when held.
  leaseAcquire: {
    numberOfKeys: 2,
    lua: `if redis.call('EXISTS', KEYS[1]) == 1 then return false end
      local token = redis.call('INCR', KEYS[2])
      redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
      return token`,
  },
  // KEYS: lease. ARGV: value, ttl.
  leaseRenew: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end return 0`,
  },
  // KEYS: a versioned hash {version, row} (topology, api_keys). ARGV: expected version ('' = nothing stored), version, row.
  versionCas: {
    numberOfKeys: 1,
    lua: `local cur = redis.call('HGET', KEYS[1], 'version')
      if (ARGV[1] == '' and cur) or (ARGV[1] ~= '' and cur ~= ARGV[1]) then return 0 end
      redis.call('HSET', KEYS[1], 'version', ARGV[2], 'row', ARGV[3])
      return 1`,
  },
  // KEYS: row hash, the table's _index set. ARGV: row, expiry (ms since the epoch, '' = none), key.
  // Expired rows are gone already (PEXPIREAT), so EXISTS is the liveness test.
  rowPutIfAbsent: {
    numberOfKeys: 2,
    lua: `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
      redis.call('HSET', KEYS[1], 'row', ARGV[1])
      if ARGV[2] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
      redis.call('SADD', KEYS[2], ARGV[3])
      return 1`,
  },
  leaseRelease: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0`,
  },
  // KEYS: peers. ARGV: id, ttl (empty id: only list).
  peers: {
    numberOfKeys: 1,
    lua: `${NOW}
      if ARGV[1] ~= '' then redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) end
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
      return redis.call('ZRANGE', KEYS[1], 0, -1)`,
  },
  // KEYS: holds (hash). ARGV: index, holder. Drops the hold if it is still this holder's.
  holdDrop: {
    numberOfKeys: 1,
    lua: `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`,
  },
  // KEYS: expiries (zset), epochs (hash). ARGV: peer ('' = only list), epoch, ttl. Returns the
  // live peers and their epochs (flat), the expired ones forgotten.
  routingAcks: {
    numberOfKeys: 2,
    lua: `${NOW}
      if ARGV[1] ~= '' then
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
      end
      for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
        redis.call('ZREM', KEYS[1], id)
        redis.call('HDEL', KEYS[2], id)
      end
      return redis.call('HGETALL', KEYS[2])`,
  },
  // KEYS: queue (list of "<seq> <entry>"), meta (hash {seq, bytes, overflowed, mark}), behind
  // (set of nodes), routing epoch. ARGV: node, max bytes, entries… Returns {mark, fresh}.
  missedAppend: {
    numberOfKeys: 4,
    lua: `local overflowed = redis.call('HGET', KEYS[2], 'overflowed') == '1'
      local fresh = (not overflowed) and redis.call('LLEN', KEYS[1]) == 0
      local mark
      if fresh then
        mark = redis.call('INCR', KEYS[4])
        redis.call('HSET', KEYS[2], 'mark', mark, 'bytes', 0)
        redis.call('SADD', KEYS[3], ARGV[1])
      else
        mark = tonumber(redis.call('HGET', KEYS[2], 'mark') or '0')
      end
      if overflowed then return {mark, 0} end
      local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
      for i = 3, #ARGV do
        local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
        redis.call('RPUSH', KEYS[1], seq .. ' ' .. ARGV[i])
        bytes = bytes + #ARGV[i]
      end
      if bytes > tonumber(ARGV[2]) then
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[2], 'overflowed', 1, 'bytes', 0)
      else
        redis.call('HSET', KEYS[2], 'bytes', bytes)
      end
      return {mark, fresh and 1 or 0}`,
  },
  // KEYS: queue, meta, behind. ARGV: node, seq. Pops the head if it is seq; the node stops being
  // behind with its last entry (unless overflowed). Returns 1 when popped.
  missedPop: {
    numberOfKeys: 3,
    lua: `local head = redis.call('LINDEX', KEYS[1], 0)
      if not head then return 0 end
      local sp = string.find(head, ' ', 1, true)
      if string.sub(head, 1, sp - 1) ~= ARGV[2] then return 0 end
      redis.call('LPOP', KEYS[1])
      local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0') - (#head - sp)
      redis.call('HSET', KEYS[2], 'bytes', math.max(bytes, 0))
      if redis.call('LLEN', KEYS[1]) == 0 and redis.call('HGET', KEYS[2], 'overflowed') ~= '1' then redis.call('SREM', KEYS[3], ARGV[1]) end
      return 1`,
  },
  // KEYS: queue, meta, behind. ARGV: node, drop ('1': the entries too).
  missedClear: {
    numberOfKeys: 3,
    lua: `if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) redis.call('HSET', KEYS[2], 'bytes', 0) end
      redis.call('HSET', KEYS[2], 'overflowed', 0)
      if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) end
      return 0`,
  },
  // ARGV: prefix, type, claimant, ttl. Returns the claimed job hash (flat), or nil.
  jobClaim: {
    numberOfKeys: 0,
    lua: `${NOW}
      local P, ty = ARGV[1], ARGV[2]
      local claimed, queued = P .. 'jobs:_claimed:' .. ty, P .. 'jobs:_queued:' .. ty
      local id = redis.call('ZRANGEBYSCORE', claimed, '-inf', now, 'LIMIT', 0, 1)[1]
      if not id then
        id = redis.call('ZRANGE', queued, 0, 0)[1]
        if not id then return false end
        redis.call('ZREM', queued, id)
        redis.call('ZREM', P .. 'jobs:_queued', id)
      end
      local exp = now + tonumber(ARGV[4])
      redis.call('HSET', P .. 'jobs:' .. id, 'state', 'in_progress', 'claimed_by', ARGV[3], 'claim_expires_at', exp)
      redis.call('ZADD', claimed, exp, id)
      return redis.call('HGETALL', P .. 'jobs:' .. id)`,
  },
  // ARGV: prefix, id, claimant, ttl, progress ('' keeps it), final state ('' = heartbeat).
  jobUpdate: {
    numberOfKeys: 0,
    lua: `${NOW}
      local P, id = ARGV[1], ARGV[2]
      local k = P .. 'jobs:' .. id
      local h = redis.call('HMGET', k, 'state', 'claimed_by', 'claim_expires_at', 'type')
      if h[1] ~= 'in_progress' or h[2] ~= ARGV[3] or tonumber(h[3]) <= now then return 0 end
      if ARGV[5] ~= '' then redis.call('HSET', k, 'progress', ARGV[5]) end
      local claimed = P .. 'jobs:_claimed:' .. h[4]
      if ARGV[6] == '' then
        local exp = now + tonumber(ARGV[4])
        redis.call('HSET', k, 'claim_expires_at', exp)
        redis.call('ZADD', claimed, exp, id)
      else
        redis.call('HSET', k, 'state', ARGV[6], 'claim_expires_at', '')
        redis.call('ZREM', claimed, id)
      end
      return 1`,
  },
  // KEYS: cursor. ARGV: seq. Raises the cursor to seq; returns the stored value.
  cdcAdvance: {
    numberOfKeys: 1,
    lua: `local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
      local seq = tonumber(ARGV[1])
      if seq > cur then redis.call('SET', KEYS[1], ARGV[1]) return seq end
      return cur`,
  },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
