/** The one source of time, injected everywhere so tests can drive expiry without patching globals. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
