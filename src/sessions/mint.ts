import type { AuditLog } from "../audit/log.js";
import type { Clock } from "../clock.js";
import { randomId, sha256Hex } from "../crypto/hash.js";
import { isLatchkeyError, LatchkeyError } from "../errors.js";
import type { Metrics } from "../http/metrics.js";
import type { Grant } from "../providers/grants.js";
import { type ProviderRegistry, providerFor } from "../providers/registry.js";
import type { ProviderKind } from "../providers/types.js";
import type { Store } from "../store/types.js";
import { matchersDueAt } from "./matchers.js";
import { type CredentialRecord, credentialMember, keys, type SessionRecord } from "./records.js";

/** A credential with its secret, as served to an agent or written into a sandbox. */
export interface CredentialWithSecret {
  record: CredentialRecord;
  secret: Record<string, string>;
}

/** A credential just minted. */
export type MintedCredential = CredentialWithSecret;

export interface MintRequest {
  session: Pick<SessionRecord, "id" | "clientId" | "expiresAt">;
  scope: string;
  grant: Grant;
  purpose: CredentialRecord["purpose"];
  actor: string;
  requestId?: string;
  /**
   * When given, the store writes that follow a mint (the `credential.issued` record, the matchers
   * due date) are added here instead of being awaited, so a caller minting several credentials
   * can wait for all of them in one store round trip.
   */
  pending?: Promise<unknown>[];
}

export interface Minter {
  mint(request: MintRequest): Promise<MintedCredential>;
  /** The fingerprint of a credential: SHA-256 of its secret fields, in a fixed order. */
  fingerprint(provider: ProviderKind, secret: Record<string, string>): string;
}

/** Mints one credential with its provider, records `credential.issued` or `credential.issue_failed`. */
export function createMinter(deps: {
  providers: ProviderRegistry;
  clock: Clock;
  audit: AuditLog;
  metrics: Metrics;
  store: Store;
}): Minter {
  const fingerprint = (kind: ProviderKind, secret: Record<string, string>) => {
    const provider = providerFor(deps.providers, kind);
    const fields = provider?.secretFields ?? Object.keys(secret).sort();
    // A single-field secret's fingerprint is the plain SHA-256 of its value, so a scanner or an
    // auditor holding the value can compute it; several fields are joined in declared order.
    return sha256Hex(fields.map((field) => secret[field] ?? "").join("\n"));
  };
  return {
    fingerprint,
    async mint(request) {
      const { session, grant } = request;
      const provider = providerFor(deps.providers, grant.provider);
      const base = {
        actor: request.actor,
        sessionId: session.id,
        scope: request.scope,
        grant: grant.name,
        provider: grant.provider,
        ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
      };
      if (!provider) {
        throw new LatchkeyError(
          "PROVIDER_UNAVAILABLE",
          `The ${grant.provider} provider is not configured on this broker.`,
        );
      }
      const credentialId = randomId("cred");
      const now = deps.clock.now();
      try {
        const minted = await provider.mint(grant, {
          sessionId: session.id,
          scope: request.scope,
          clientId: session.clientId,
          credentialId,
          notAfter: session.expiresAt,
          now,
        });
        const record: CredentialRecord = {
          id: credentialId,
          sessionId: session.id,
          scope: request.scope,
          grant: grant.name,
          provider: grant.provider,
          purpose: request.purpose,
          reference: minted.reference,
          fingerprint: fingerprint(grant.provider, minted.secret),
          issuedAt: now,
          expiresAt: minted.expiresAt,
          state: "active",
        };
        deps.metrics.credentialsIssued.inc({ provider: grant.provider });
        const audited = deps.audit.record({
          ...base,
          action: "credential.issued",
          outcome: "success",
          credentialId,
          fingerprint: record.fingerprint,
          detail: { purpose: request.purpose, expiresAt: new Date(record.expiresAt).toISOString() },
        });
        // Its leak matchers are stored when it is revoked, or shortly before it expires: the
        // background worker is told when (see preserveMatchers).
        const due = deps.store.indexAdd(keys.matchersDue, credentialMember(record), matchersDueAt(record));
        if (request.pending) {
          for (const write of [audited, due]) {
            // Observed here so that a caller failing before it awaits the batch does not leave an
            // unhandled rejection; the caller still sees the failure when it awaits.
            write.catch(() => {});
            request.pending.push(write);
          }
        } else await Promise.all([audited, due]);
        return { record, secret: minted.secret };
      } catch (error) {
        const known = isLatchkeyError(error)
          ? error
          : new LatchkeyError(
              "PROVIDER_ERROR",
              `The ${grant.provider} provider failed to mint the credential.`,
              {
                cause: error,
              },
            );
        await deps.audit.record({
          ...base,
          action: "credential.issue_failed",
          outcome: "failure",
          reason: known.code,
        });
        throw known;
      }
    },
  };
}
