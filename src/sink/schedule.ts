const MIN_DELAY_MS = 1000;
/** Looks per lifetime: whether a refresh is due is decided by `needsRefresh` at each look, so a
 * refresh is at most a twelfth of the lifetime late, well before the credential expires. */
const LOOKS_PER_LIFETIME = 12;

/**
 * How long to wait before looking at a session's credentials again: a fraction of the shortest
 * lifetime, no later than the session's own end, no longer than `maxMs`, and never under a second.
 */
export function nextCheckDelay(
  credentials: Iterable<{ issuedAt: number; expiresAt: number }>,
  sessionExpiresAt: number | undefined,
  now: number,
  maxMs: number,
): number {
  let delay = maxMs;
  for (const { issuedAt, expiresAt } of credentials) {
    delay = Math.min(delay, (expiresAt - issuedAt) / LOOKS_PER_LIFETIME);
  }
  if (sessionExpiresAt !== undefined) delay = Math.min(delay, sessionExpiresAt - now);
  return Math.max(MIN_DELAY_MS, Math.ceil(delay));
}
