import { type ProviderRegistry, providerFor } from "../providers/registry.js";
import { buildMatchers, type IssuedMatcher } from "../scanner/matchers.js";
import type { Store } from "../store/types.js";
import type { CredentialRecord } from "./records.js";
import type { SessionRepository } from "./repository.js";

/**
 * How long before a credential expires its leak matchers are stored, at the latest: enough for a
 * background pass or two (a pass runs every few seconds) to come round before the secret is gone.
 */
export const MATCHERS_AHEAD_MS = 60_000;

/**
 * How the leak scanner recognises a credential: matchers for each of its provider's secret
 * fields. Building them is most of the cost of issuing a JWT, so it is not done then: a scan
 * derives them from the live secret, and they are stored (to outlive the secret) when the
 * credential is revoked or, by the background worker, shortly before it expires.
 */
export function credentialMatchers(
  providers: ProviderRegistry,
  record: CredentialRecord,
  secret: Record<string, string>,
): IssuedMatcher[] {
  const fields = providerFor(providers, record.provider)?.secretFields ?? Object.keys(secret);
  const ref = { credentialId: record.id, sessionId: record.sessionId, provider: record.provider };
  return fields.flatMap((field) => {
    const value = secret[field];
    return value ? buildMatchers(value, ref) : [];
  });
}

/** When the background worker stores a credential's matchers if nothing has by then. */
export function matchersDueAt(record: Pick<CredentialRecord, "issuedAt" | "expiresAt">): number {
  return Math.max(record.issuedAt, record.expiresAt - MATCHERS_AHEAD_MS);
}

/**
 * Stores the matchers of a credential still active, from its secret while the store still has
 * it. Returns whether they were written (a credential revoked meanwhile had them stored then).
 */
export async function preserveMatchers(
  deps: { store: Store; repo: SessionRepository; providers: ProviderRegistry },
  record: CredentialRecord,
  now: number,
): Promise<boolean> {
  if (record.state !== "active") return false;
  const secret = await deps.repo.readSecret(record);
  if (!secret) return false;
  await deps.store.commit(
    [],
    [deps.repo.matchersWrite(record, credentialMatchers(deps.providers, record, secret), now)],
  );
  return true;
}
