import type { Clock } from "../../src/clock.js";

/** A clock tests move by hand; it starts at a fixed, readable instant. */
export interface TestClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function createTestClock(start = Date.parse("2026-11-27T10:00:00Z")): TestClock {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
    set(ms) {
      now = ms;
    },
  };
}
