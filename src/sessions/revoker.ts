import type { AuditLog } from "../audit/log.js";
import type { Clock } from "../clock.js";
import type { Metrics } from "../http/metrics.js";
import type { Logger } from "../logging.js";
import { type ProviderRegistry, providerFor } from "../providers/registry.js";
import type { RevokeOutcome } from "../providers/types.js";
import type { Store } from "../store/types.js";
import { credentialMatchers } from "./matchers.js";
import { type CredentialRecord, credentialMember, keys, type RevokeReason } from "./records.js";
import type { SessionRepository } from "./repository.js";

export interface Revoker {
  /** Revokes one credential with its provider and records the outcome; never throws for provider failures. */
  revoke(
    credential: CredentialRecord,
    reason: RevokeReason,
    actor: string,
    requestId?: string,
  ): Promise<CredentialRecord>;
}

/** First retry delay of a pending revocation; doubled per attempt up to the cap. */
export const PENDING_RETRY_MS = 5_000;

export function createRevoker(deps: {
  providers: ProviderRegistry;
  repo: SessionRepository;
  store: Store;
  clock: Clock;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
}): Revoker {
  const { repo, clock } = deps;

  const callProvider = async (
    record: CredentialRecord,
    secret: Record<string, string> | undefined,
  ): Promise<RevokeOutcome> => {
    const provider = providerFor(deps.providers, record.provider);
    if (!provider) return { state: "revocation_pending", error: "provider not configured", retryable: true };
    try {
      return await provider.revoke({
        sessionId: record.sessionId,
        credentialId: record.id,
        reference: record.reference,
        issuedAt: record.issuedAt,
        expiresAt: record.expiresAt,
        secret,
        now: clock.now(),
      });
    } catch (error) {
      deps.logger.warn(
        { err: error, credentialId: record.id, provider: record.provider },
        "revocation failed",
      );
      const code = (error as { code?: unknown }).code;
      return {
        state: "revocation_pending",
        error: typeof code === "string" ? code : "provider call failed",
        retryable: true,
      };
    }
  };

  return {
    async revoke(credential, reason, actor, requestId) {
      if (credential.state === "revoked" || credential.state === "expired") return credential;
      const now = clock.now();
      const expired = credential.expiresAt <= now;
      const secret = expired ? undefined : await repo.readSecret(credential);
      const outcome: RevokeOutcome = expired
        ? { state: "revoked", detail: "already expired" }
        : await callProvider(credential, secret);
      const updated: CredentialRecord = {
        ...credential,
        state: outcome.state === "revoked" ? (expired ? "expired" : "revoked") : "revocation_pending",
        revokeReason: reason,
        ...(outcome.state === "revoked" ? { revokedAt: now } : { revocationError: outcome.error }),
      };
      if (outcome.state === "revoked") delete updated.revocationError;
      const writes = [repo.credentialWrite(updated, now)];
      if (outcome.state === "revoked") {
        writes.push({ op: "delete", key: keys.secret(credential.sessionId, credential.id) });
        // The secret goes; how to recognise it stays, so a leak found later is still reported.
        if (secret)
          writes.push(repo.matchersWrite(updated, credentialMatchers(deps.providers, updated, secret), now));
      }
      await deps.store.commit([], writes);
      const pendingMember = credentialMember(credential);
      if (outcome.state === "revoked") await deps.store.indexRemove(keys.pendingRevocations, pendingMember);
      else await deps.store.indexAdd(keys.pendingRevocations, pendingMember, now + PENDING_RETRY_MS);
      if (expired) return updated;
      deps.metrics.credentialsRevoked.inc({ provider: credential.provider, outcome: updated.state });
      await deps.audit.record({
        action: outcome.state === "revoked" ? "credential.revoked" : "credential.revocation_failed",
        outcome: outcome.state === "revoked" ? "success" : "failure",
        actor,
        sessionId: credential.sessionId,
        scope: credential.scope,
        grant: credential.grant,
        provider: credential.provider,
        credentialId: credential.id,
        fingerprint: credential.fingerprint,
        reason,
        ...(requestId === undefined ? {} : { requestId }),
        ...(outcome.state === "revoked"
          ? outcome.detail === undefined
            ? {}
            : { detail: { note: outcome.detail } }
          : { detail: { error: outcome.error } }),
      });
      return updated;
    },
  };
}
