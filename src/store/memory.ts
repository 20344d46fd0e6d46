import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import {
  type AppendResult,
  assertOneSlot,
  type Guard,
  type IndexEntry,
  type LogEntry,
  type LogHead,
  type LogRange,
  type Store,
  type StoredRecord,
  type Write,
} from "./types.js";

interface Cell {
  value: string;
  version: number;
  /** ms since epoch, or undefined for no expiry. */
  expiresAt: number | undefined;
}

interface MemoryLog {
  entries: LogEntry[];
  head: LogHead;
}

export interface MemoryStoreOptions {
  clock?: Clock;
  /** How often expired keys are purged from memory; reads never see them regardless. */
  sweepIntervalMs?: number;
}

/**
 * The embedded development store. It keeps the same contract as the Redis store, TTLs included,
 * so that what passes here passes there; it is not shared between processes and loses
 * everything on exit.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const cells = new Map<string, Cell>();
  const indexes = new Map<string, Map<string, number>>();
  const logs = new Map<string, MemoryLog>();
  let closed = false;

  const live = (key: string): Cell | undefined => {
    const cell = cells.get(key);
    if (cell && cell.expiresAt !== undefined && cell.expiresAt <= clock.now()) {
      cells.delete(key);
      return undefined;
    }
    return cell;
  };

  const sweep = setInterval(() => {
    for (const key of cells.keys()) live(key);
  }, options.sweepIntervalMs ?? 10_000);
  sweep.unref();

  const ensureOpen = () => {
    if (closed) throw new Error("memory store is closed");
  };

  const toRecord = (cell: Cell | undefined): StoredRecord | null =>
    cell ? { value: cell.value, version: cell.version } : null;

  const logFor = (name: string): MemoryLog => {
    let log = logs.get(name);
    if (!log) {
      log = { entries: [], head: { seq: 0, state: "" } };
      logs.set(name, log);
    }
    return log;
  };

  return {
    kind: "memory",
    async get(key) {
      ensureOpen();
      return toRecord(live(key));
    },
    async getMany(keys) {
      ensureOpen();
      return keys.map((key) => toRecord(live(key)));
    },
    async commit(guards: readonly Guard[], writes: readonly Write[]) {
      ensureOpen();
      assertOneSlot(guards, writes);
      for (const guard of guards) {
        const cell = live(guard.key);
        if ("absent" in guard ? cell !== undefined : cell?.version !== guard.version) return false;
      }
      for (const write of writes) {
        if (write.op === "delete") {
          cells.delete(write.key);
          continue;
        }
        const previous = live(write.key);
        cells.set(write.key, {
          value: write.value,
          version: (previous?.version ?? 0) + 1,
          expiresAt:
            write.ttlMs === undefined ? undefined : clock.now() + Math.max(1, Math.ceil(write.ttlMs)),
        });
      }
      return true;
    },
    async increment(key, ttlMs) {
      ensureOpen();
      const cell = live(key);
      const next = Number(cell?.value ?? "0") + 1;
      cells.set(key, {
        value: String(next),
        version: (cell?.version ?? 0) + 1,
        expiresAt: cell ? cell.expiresAt : clock.now() + Math.max(1, Math.ceil(ttlMs)),
      });
      return next;
    },
    async indexAdd(index, member, score, options) {
      ensureOpen();
      let entries = indexes.get(index);
      if (!entries) {
        entries = new Map();
        indexes.set(index, entries);
      }
      if (options?.onlyIfAbsent && entries.has(member)) return;
      entries.set(member, score);
    },
    async indexRemove(index, member) {
      ensureOpen();
      indexes.get(index)?.delete(member);
    },
    async indexRange(index, maxScore, limit) {
      ensureOpen();
      const found: IndexEntry[] = [];
      for (const [member, score] of indexes.get(index) ?? []) {
        if (score <= maxScore) found.push({ member, score });
      }
      // Ties ordered by member, as Redis orders equal scores lexicographically.
      found.sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
      return found.slice(0, limit);
    },
    async appendLog(name, expectedSeq, entries, headState): Promise<AppendResult> {
      ensureOpen();
      const log = logFor(name);
      if (log.head.seq !== expectedSeq) return { ok: false, head: { ...log.head } };
      let seq = expectedSeq;
      for (const entry of entries) log.entries.push({ seq: ++seq, entry });
      log.head = { seq, state: headState };
      return { ok: true, seq };
    },
    async logHead(name) {
      ensureOpen();
      return { ...logFor(name).head };
    },
    async readLog(name, range: LogRange) {
      ensureOpen();
      const entries = logs.get(name)?.entries ?? [];
      // Sequence numbers are dense from 1, so the position of seq n is n - 1.
      if (range.reverse) {
        const end = range.cursor === undefined ? entries.length : Math.min(entries.length, range.cursor - 1);
        return entries.slice(Math.max(0, end - range.limit), Math.max(0, end)).reverse();
      }
      const start = range.cursor ?? 0;
      return entries.slice(start, start + range.limit);
    },
    async ping() {
      ensureOpen();
    },
    async close() {
      closed = true;
      clearInterval(sweep);
    },
  };
}
