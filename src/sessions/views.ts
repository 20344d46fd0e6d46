import type { CredentialWithSecret } from "./mint.js";
import type { CredentialRecord, SessionRecord } from "./records.js";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Credential metadata as the API shows it: never the secret. */
export function credentialView(record: CredentialRecord) {
  return {
    id: record.id,
    scope: record.scope,
    grant: record.grant,
    provider: record.provider,
    purpose: record.purpose,
    state: record.state,
    issuedAt: iso(record.issuedAt),
    expiresAt: iso(record.expiresAt),
    fingerprint: record.fingerprint,
    reference: record.reference,
    ...(record.revokedAt === undefined ? {} : { revokedAt: iso(record.revokedAt) }),
    ...(record.revokeReason === undefined ? {} : { revokeReason: record.revokeReason }),
    ...(record.revocationError === undefined ? {} : { revocationError: record.revocationError }),
  };
}

/** Metadata plus the secret: only in the answer to the request that minted it. */
export function mintedView({ record, secret }: CredentialWithSecret) {
  return { ...credentialView(record), secret };
}

export function sessionView(session: SessionRecord) {
  return {
    sessionId: session.id,
    clientId: session.clientId,
    state: session.state,
    scopes: session.scopes,
    labels: session.labels,
    createdAt: iso(session.createdAt),
    expiresAt: iso(session.expiresAt),
    ...(session.endedAt === undefined ? {} : { endedAt: iso(session.endedAt) }),
    ...(session.endReason === undefined ? {} : { endReason: session.endReason }),
  };
}
