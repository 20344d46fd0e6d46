import { Redis } from "ioredis";
import { StoreUnavailableError } from "../errors.js";
import {
  type AppendResult,
  assertOneSlot,
  type Guard,
  type LogEntry,
  type LogRange,
  type Store,
  type StoredRecord,
  type Write,
} from "./types.js";

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key; the hash tag inside each key stays intact. */
  keyPrefix?: string;
  /** Upper bound for one command; past it the store reports itself unavailable. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

// Each key is a hash {v: value, n: version}. A guard version of 0 means "must be absent".
const COMMIT = `
local spec = cjson.decode(ARGV[1])
for _, g in ipairs(spec.g) do
  local n = tonumber(redis.call('HGET', KEYS[g[1]], 'n') or '0')
  if n ~= g[2] then return 0 end
end
for _, w in ipairs(spec.w) do
  local key = KEYS[w[1]]
  if w[2] == 'd' then
    redis.call('DEL', key)
  else
    redis.call('HINCRBY', key, 'n', 1)
    redis.call('HSET', key, 'v', w[3])
    if w[4] > 0 then redis.call('PEXPIRE', key, w[4]) else redis.call('PERSIST', key) end
  end
end
return 1
`;

const INCREMENT = `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HINCRBY', KEYS[1], 'n', 1)
if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v
`;

const APPEND = `
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if seq ~= tonumber(ARGV[1]) then
  return {0, seq, redis.call('HGET', KEYS[1], 'state') or ''}
end
for i = 3, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[2], seq .. '-0', 'e', ARGV[i])
end
redis.call('HSET', KEYS[1], 'seq', seq, 'state', ARGV[2])
return {1, seq}
`;

interface ScriptedRedis extends Redis {
  lkCommit(...args: (string | number)[]): Promise<number>;
  lkIncrement(key: string, ttlMs: number): Promise<number>;
  lkAppend(
    head: string,
    stream: string,
    expected: number,
    state: string,
    ...entries: string[]
  ): Promise<[number, number, string?]>;
}

/** Connection URL without its password, for messages and logs. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable Redis URL)";
  }
}

export async function createRedisStore(options: RedisStoreOptions): Promise<Store> {
  const prefix = options.keyPrefix ?? "latchkey:";
  const redis = new Redis(options.url, {
    lazyConnect: true,
    // Without an offline queue a command fails at once while disconnected instead of waiting
    // for a reconnect: the broker answers 503 quickly and recovers when Redis is back.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Commands issued in one event-loop turn leave in one socket write: under load that is one
    // system call (and one Redis wake-up) for many requests instead of one each.
    enableAutoPipelining: true,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  }) as ScriptedRedis;
  redis.defineCommand("lkCommit", { lua: COMMIT });
  redis.defineCommand("lkIncrement", { lua: INCREMENT, numberOfKeys: 1 });
  redis.defineCommand("lkAppend", { lua: APPEND, numberOfKeys: 2 });
  // ioredis reports connection trouble as events too; the commands' rejections carry it to callers.
  redis.on("error", () => {});

  const k = (key: string) => `${prefix}${key}`;
  const logKeys = (log: string) => [k(`{log:${log}}:head`), k(`{log:${log}}:entries`)] as const;

  async function call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  const toRecord = (fields: (string | null)[]): StoredRecord | null => {
    const [value, version] = fields;
    return value === null || value === undefined || version === null || version === undefined
      ? null
      : { value, version: Number(version) };
  };

  try {
    await redis.connect();
  } catch (error) {
    // Whoever creates a connection closes it: a failed first connect must not leave ioredis
    // reconnecting in the background.
    redis.disconnect();
    throw new StoreUnavailableError(error);
  }

  return {
    kind: "redis",
    async get(key) {
      return toRecord(await call(() => redis.hmget(k(key), "v", "n")));
    },
    async getMany(keys) {
      if (keys.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.hmget(k(key), "v", "n");
      const results = await call(async () => (await pipeline.exec()) ?? []);
      return results.map(([error, fields]) => {
        if (error) throw new StoreUnavailableError(error);
        return toRecord(fields as (string | null)[]);
      });
    },
    async commit(guards: readonly Guard[], writes: readonly Write[]) {
      assertOneSlot(guards, writes);
      const keys: string[] = [];
      const slot = (key: string) => {
        const at = keys.indexOf(key);
        if (at !== -1) return at + 1;
        keys.push(key);
        return keys.length;
      };
      const spec = {
        g: guards.map((guard) => [slot(guard.key), "absent" in guard ? 0 : guard.version]),
        w: writes.map((write) =>
          write.op === "delete"
            ? [slot(write.key), "d"]
            : [
                slot(write.key),
                "s",
                write.value,
                write.ttlMs === undefined ? 0 : Math.max(1, Math.ceil(write.ttlMs)),
              ],
        ),
      };
      const result = await call(() => redis.lkCommit(keys.length, ...keys.map(k), JSON.stringify(spec)));
      return result === 1;
    },
    async increment(key, ttlMs) {
      return Number(await call(() => redis.lkIncrement(k(key), Math.max(1, Math.ceil(ttlMs)))));
    },
    async indexAdd(index, member, score, options) {
      await call(() =>
        options?.onlyIfAbsent
          ? redis.zadd(k(index), "NX", score, member)
          : redis.zadd(k(index), score, member),
      );
    },
    async indexRemove(index, member) {
      await call(() => redis.zrem(k(index), member));
    },
    async indexRange(index, maxScore, limit) {
      const flat = await call(() =>
        redis.zrangebyscore(k(index), "-inf", maxScore, "WITHSCORES", "LIMIT", 0, limit),
      );
      const entries = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        entries.push({ member: flat[i] as string, score: Number(flat[i + 1]) });
      }
      return entries;
    },
    async appendLog(log, expectedSeq, entries, headState): Promise<AppendResult> {
      const [head, stream] = logKeys(log);
      const [ok, seq, state] = await call(() =>
        redis.lkAppend(head, stream, expectedSeq, headState, ...entries),
      );
      return ok === 1
        ? { ok: true, seq: Number(seq) }
        : { ok: false, head: { seq: Number(seq), state: state ?? "" } };
    },
    async logHead(log) {
      const [head] = logKeys(log);
      const [seq, state] = await call(() => redis.hmget(head, "seq", "state"));
      return { seq: Number(seq ?? 0), state: state ?? "" };
    },
    async readLog(log, range: LogRange): Promise<LogEntry[]> {
      const [, stream] = logKeys(log);
      const rows = await call(() =>
        range.reverse
          ? redis.xrevrange(
              stream,
              range.cursor === undefined ? "+" : `(${range.cursor}-0`,
              "-",
              "COUNT",
              range.limit,
            )
          : redis.xrange(
              stream,
              range.cursor === undefined ? "-" : `(${range.cursor}-0`,
              "+",
              "COUNT",
              range.limit,
            ),
      );
      return rows.map(([id, fields]) => ({ seq: Number(id.split("-")[0]), entry: fields[1] ?? "" }));
    },
    async ping() {
      await call(() => redis.ping());
    },
    async close() {
      if (redis.status === "ready") await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
