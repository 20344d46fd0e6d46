import { type ProviderRegistry, providerFor } from "../providers/registry.js";
import { buildMatchers, type IssuedMatcher } from "../scanner/matchers.js";
import type { CredentialRecord } from "./records.js";

/**
 * How the leak scanner recognises a credential: matchers for each of its provider's secret
 * fields. Built and stored at issuance (they outlive the secret), and derived from the live
 * secret for a credential issued before its matchers were stored under the current scheme.
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
