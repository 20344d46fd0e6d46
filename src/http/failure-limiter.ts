import { LatchkeyError } from "../errors.js";
import type { Store } from "../store/types.js";

const WINDOW_MS = 60_000;

/** Counts refused credentials per source address and refuses that source once it passes the limit. */
export interface FailureLimiter {
  /** Throws RATE_LIMITED when `source` already failed too often in the current window. */
  check(source: string): Promise<void>;
  recordFailure(source: string): Promise<void>;
}

export function createFailureLimiter(store: Store, listener: string, perMinute: number): FailureLimiter {
  const key = (source: string) => `authfail:${listener}:${source}`;
  return {
    async check(source) {
      const count = Number((await store.get(key(source)))?.value ?? 0);
      if (count >= perMinute) {
        throw new LatchkeyError("RATE_LIMITED", "Too many failed authentication attempts; wait a minute.", {
          headers: { "retry-after": "60" },
        });
      }
    },
    async recordFailure(source) {
      await store.increment(key(source), WINDOW_MS);
    },
  };
}
