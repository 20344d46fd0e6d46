// The state store contract. Everything the broker keeps (sessions, credential metadata, sealed
// secrets, deny lists, the audit log) goes through this small interface, implemented by an
// in-memory store (development) and a Redis store (production); one contract suite checks both.
//
// Atomicity: `commit` applies all its writes or none, and only if every guard still holds
// (optimistic concurrency on per-key versions). All keys of one commit must share one hash tag
// (`{...}`), so that the same commit is a single-slot Lua call on Redis Cluster; stores refuse a
// commit that spans tags. `appendLog` is atomic against its expected sequence number.
//
// Failure: when the backing service cannot answer within the store's bounded timeout, every
// method rejects with `StoreUnavailableError`; callers let it propagate so the broker fails
// closed (503), never acting on a guess.
//
// Expiry: a key written with `ttlMs` disappears after that many milliseconds, exactly as a Redis
// key with PEXPIRE: reads no longer see it and its version restarts at 1 if it is written again.

export interface StoredRecord {
  value: string;
  /** Starts at 1 when the key is created, +1 per write. */
  version: number;
}

export type Guard = { key: string; version: number } | { key: string; absent: true };

export type Write = { op: "set"; key: string; value: string; ttlMs?: number } | { op: "delete"; key: string };

export interface IndexEntry {
  member: string;
  score: number;
}

export interface LogEntry {
  seq: number;
  entry: string;
}

export interface LogHead {
  seq: number;
  /** Opaque state kept with the head, e.g. the hash that chains the next entry. */
  state: string;
}

/** On success, `seq` is the sequence number of the last appended entry. */
export type AppendResult = { ok: true; seq: number } | { ok: false; head: LogHead };

export interface LogRange {
  /** Exclusive bound: entries after this sequence number (or before it when `reverse`). */
  cursor?: number;
  limit: number;
  reverse?: boolean;
}

export interface Store {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<StoredRecord | null>;
  getMany(keys: readonly string[]): Promise<(StoredRecord | null)[]>;
  /** Applies `writes` atomically if every guard holds; answers false (and writes nothing) otherwise. */
  commit(guards: readonly Guard[], writes: readonly Write[]): Promise<boolean>;
  /** Adds 1 to a counter, creating it with `ttlMs` when absent; answers the new value. */
  increment(key: string, ttlMs: number): Promise<number>;
  /** A sorted index (member → score), e.g. sessions by expiry time; `onlyIfAbsent` never moves an existing member. */
  indexAdd(index: string, member: string, score: number, options?: { onlyIfAbsent?: boolean }): Promise<void>;
  indexRemove(index: string, member: string): Promise<void>;
  /** Members with score ≤ maxScore, lowest first. */
  indexRange(index: string, maxScore: number, limit: number): Promise<IndexEntry[]>;
  /**
   * Appends `entries` as sequences `expectedSeq + 1 ...` only if the log's head is still
   * `expectedSeq`, and records `headState` with the new head; all or nothing.
   */
  appendLog(
    log: string,
    expectedSeq: number,
    entries: readonly string[],
    headState: string,
  ): Promise<AppendResult>;
  logHead(log: string): Promise<LogHead>;
  readLog(log: string, range: LogRange): Promise<LogEntry[]>;
  /** Resolves when the backing service answers; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The hash tag of a key: what Redis Cluster hashes (the text inside the first `{...}`), else the key. */
export function hashTag(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export function assertOneSlot(guards: readonly Guard[], writes: readonly Write[]): void {
  const tags = new Set<string>();
  for (const item of [...guards, ...writes]) tags.add(hashTag(item.key));
  if (tags.size > 1) {
    throw new TypeError(`a commit must stay within one hash tag, got ${[...tags].join(", ")}`);
  }
}
