import { type ProviderRegistry, providerFor } from "../providers/registry.js";
import { buildMatchers, type IssuedMatcher } from "../scanner/matchers.js";
import type { CredentialRecord } from "./records.js";

/**
 * How the leak scanner recognises a credential: matchers for each of its provider's secret
 * fields. Derived from the live secret when a scan needs them, and stored when the secret is
 * deleted at revocation, so issuing a credential costs nothing extra.
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
