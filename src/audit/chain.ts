import { sha256Hex } from "../crypto/hash.js";
import type { AuditEvent } from "./event.js";

export const GENESIS_HASH = "0".repeat(64);

/** JSON with keys sorted at every level, so a hash never depends on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Each event's hash covers its content and the previous hash, so editing or dropping one breaks every later link. */
export function chainHash(event: Omit<AuditEvent, "hash">): string {
  return sha256Hex(`${event.prevHash}\n${canonicalJson(event)}`);
}

export interface ChainVerification {
  ok: boolean;
  count: number;
  lastSeq: number;
  headHash: string;
  /** The first sequence number where the chain breaks, and why. */
  brokenAt?: { seq: number; reason: string };
}

/** Checks an ordered run of events, starting after `prev` (genesis by default). */
export function verifyChain(
  events: Iterable<AuditEvent>,
  prev: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): ChainVerification {
  let count = 0;
  let last = prev;
  for (const event of events) {
    const { hash, ...rest } = event;
    const fail = (reason: string): ChainVerification => ({
      ok: false,
      count,
      lastSeq: last.seq,
      headHash: last.hash,
      brokenAt: { seq: event.seq, reason },
    });
    if (event.seq !== last.seq + 1) return fail(`expected seq ${last.seq + 1}, found ${event.seq}`);
    if (event.prevHash !== last.hash) return fail("prevHash does not match the previous event's hash");
    if (chainHash(rest) !== hash) return fail("hash does not match the event's content");
    count++;
    last = { seq: event.seq, hash };
  }
  return { ok: true, count, lastSeq: last.seq, headHash: last.hash };
}
