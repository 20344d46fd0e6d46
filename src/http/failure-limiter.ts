import { LatchkeyError } from "../errors.js";
import type { Store } from "../store/types.js";

const WINDOW_MS = 60_000;

/**
 * Counts refused credentials per source address in the store (shared by replicas) and refuses a
 * source that passed the limit. The refusal is remembered in this process, so the happy path of
 * a valid credential costs no store round trip; a replica learns of a source's block on that
 * source's next failure there.
 */
export interface FailureLimiter {
  /** Throws RATE_LIMITED when `source` already failed too often in the current window. */
  check(source: string): Promise<void>;
  recordFailure(source: string): Promise<void>;
}

export function createFailureLimiter(store: Store, listener: string, perMinute: number): FailureLimiter {
  const key = (source: string) => `authfail:${listener}:${source}`;
  const blockedUntil = new Map<string, number>();
  return {
    async check(source) {
      const until = blockedUntil.get(source);
      if (until === undefined) return;
      if (until <= Date.now()) {
        blockedUntil.delete(source);
        return;
      }
      throw new LatchkeyError("RATE_LIMITED", "Too many failed authentication attempts; wait a minute.", {
        headers: { "retry-after": String(Math.ceil((until - Date.now()) / 1000)) },
      });
    },
    async recordFailure(source) {
      const count = await store.increment(key(source), WINDOW_MS);
      if (count >= perMinute) blockedUntil.set(source, Date.now() + WINDOW_MS);
    },
  };
}
