import { appendFile } from "node:fs/promises";
import type { Clock } from "../clock.js";
import { randomId } from "../crypto/hash.js";
import type { Logger } from "../logging.js";
import type { LogHead, Store } from "../store/types.js";
import { type ChainVerification, chainHash, GENESIS_HASH, verifyChain } from "./chain.js";
import type { AuditEvent, AuditInput, AuditQuery } from "./event.js";

const LOG = "audit";
const PAGE = 500;
/** Entries one query may read before answering with a cursor, so a rare filter cannot make a request unbounded. */
const SCAN_BUDGET = 20_000;
const MAX_BATCH = 256;

export interface AuditLog {
  /** Resolves once the event is durable in the store (and mirrored, when configured). */
  record(input: AuditInput): Promise<AuditEvent>;
  query(query: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }>;
  /** Every event matching the filters, oldest first. */
  export(filters: Omit<AuditQuery, "limit" | "cursor" | "order">): AsyncIterable<AuditEvent>;
  verify(): Promise<ChainVerification>;
}

export interface AuditLogDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** A JSONL file every event is also appended to. */
  mirrorFile?: string;
}

interface Pending {
  input: AuditInput;
  resolve(event: AuditEvent): void;
  reject(error: unknown): void;
}

function matches(event: AuditEvent, filters: Omit<AuditQuery, "limit" | "cursor" | "order">): boolean {
  if (filters.sessionId !== undefined && event.sessionId !== filters.sessionId) return false;
  if (filters.action !== undefined && event.action !== filters.action) return false;
  if (filters.provider !== undefined && event.provider !== filters.provider) return false;
  if (filters.clientId !== undefined && event.actor !== filters.clientId) return false;
  if (filters.since !== undefined && Date.parse(event.time) < Date.parse(filters.since)) return false;
  if (filters.until !== undefined && Date.parse(event.time) > Date.parse(filters.until)) return false;
  return true;
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { store, clock, logger } = deps;
  let pending: Pending[] = [];
  let writing = false;
  // The head as this process last saw it; another replica appending makes the next append
  // fail its guard, and the batch is re-chained on the fresh head.
  let head: LogHead | undefined;

  const chain = (inputs: readonly AuditInput[], from: LogHead): AuditEvent[] => {
    let prevHash = from.state || GENESIS_HASH;
    let seq = from.seq;
    const time = new Date(clock.now()).toISOString();
    return inputs.map((input) => {
      const unhashed = { ...input, id: randomId("evt"), seq: ++seq, time, prevHash };
      const hash = chainHash(unhashed);
      prevHash = hash;
      return { ...unhashed, hash };
    });
  };

  // Group commit: whatever queued up while the previous batch was being written goes in one
  // store call, so concurrent requests share round trips instead of queueing behind each other.
  const flush = async () => {
    if (writing) return;
    writing = true;
    try {
      while (pending.length > 0) {
        const batch = pending.slice(0, MAX_BATCH);
        pending = pending.slice(batch.length);
        try {
          const events = await appendBatch(batch.map((p) => p.input));
          if (deps.mirrorFile) {
            await appendFile(deps.mirrorFile, events.map((e) => `${JSON.stringify(e)}\n`).join(""), {
              mode: 0o600,
            });
          }
          for (const [i, p] of batch.entries()) p.resolve(events[i] as AuditEvent);
        } catch (error) {
          head = undefined;
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      writing = false;
    }
  };

  const appendBatch = async (inputs: AuditInput[]): Promise<AuditEvent[]> => {
    for (let attempt = 0; ; attempt++) {
      head ??= await store.logHead(LOG);
      const events = chain(inputs, head);
      const last = events[events.length - 1] as AuditEvent;
      const result = await store.appendLog(
        LOG,
        head.seq,
        events.map((e) => JSON.stringify(e)),
        last.hash,
      );
      if (result.ok) {
        head = { seq: result.seq, state: last.hash };
        return events;
      }
      head = result.head;
      if (attempt > 0 && attempt % 50 === 0)
        logger.warn({ attempt }, "audit append keeps losing the race for the log head");
    }
  };

  async function* scan(reverse: boolean, startCursor: number | undefined) {
    let cursor = startCursor;
    for (;;) {
      const page = await store.readLog(LOG, {
        limit: PAGE,
        reverse,
        ...(cursor === undefined ? {} : { cursor }),
      });
      if (page.length === 0) return;
      for (const row of page) {
        cursor = row.seq;
        yield JSON.parse(row.entry) as AuditEvent;
      }
    }
  }

  return {
    record(input) {
      return new Promise<AuditEvent>((resolve, reject) => {
        pending.push({ input, resolve, reject });
        void flush();
      });
    },
    async query(query) {
      const reverse = query.order === "newest";
      const events: AuditEvent[] = [];
      let scanned = 0;
      let lastSeq: number | undefined;
      let exhausted = true;
      for await (const event of scan(
        reverse,
        query.cursor === undefined ? undefined : Number(query.cursor),
      )) {
        lastSeq = event.seq;
        scanned++;
        // The log is in time order, so a time bound on the far side ends the search early.
        if (reverse && query.since !== undefined && Date.parse(event.time) < Date.parse(query.since)) break;
        if (!reverse && query.until !== undefined && Date.parse(event.time) > Date.parse(query.until)) break;
        if (matches(event, query)) events.push(event);
        if (events.length >= query.limit || scanned >= SCAN_BUDGET) {
          exhausted = false;
          break;
        }
      }
      return { events, nextCursor: exhausted || lastSeq === undefined ? null : String(lastSeq) };
    },
    async *export(filters) {
      for await (const event of scan(false, undefined)) {
        if (filters.until !== undefined && Date.parse(event.time) > Date.parse(filters.until)) return;
        if (matches(event, filters)) yield event;
      }
    },
    async verify() {
      const events = scan(false, undefined);
      const collected: AuditEvent[] = [];
      let result: ChainVerification = { ok: true, count: 0, lastSeq: 0, headHash: GENESIS_HASH };
      // Verified page by page so memory stays bounded on a long log.
      for await (const event of events) {
        collected.push(event);
        if (collected.length === PAGE) {
          result = mergeVerification(
            result,
            verifyChain(collected, { seq: result.lastSeq, hash: result.headHash }),
          );
          collected.length = 0;
          if (!result.ok) return result;
        }
      }
      result = mergeVerification(
        result,
        verifyChain(collected, { seq: result.lastSeq, hash: result.headHash }),
      );
      if (!result.ok) return result;
      // The stored head must be the last readable event: a log cut short behind its head shows here.
      const head = await store.logHead(LOG);
      if (head.seq !== result.lastSeq || (head.state || GENESIS_HASH) !== result.headHash) {
        return {
          ...result,
          ok: false,
          brokenAt: {
            seq: result.lastSeq + 1,
            reason: `the log head is at seq ${head.seq}, past the last readable event`,
          },
        };
      }
      return result;
    },
  };
}

function mergeVerification(before: ChainVerification, page: ChainVerification): ChainVerification {
  return { ...page, count: before.count + page.count };
}
