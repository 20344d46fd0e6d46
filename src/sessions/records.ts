import { z } from "zod";
import { providerKinds } from "../providers/types.js";
import { ANCHOR_SCHEME } from "../scanner/anchor.js";

export const sessionIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,47}$/;

export const sessionStates = ["active", "ending", "ended"] as const;
export type SessionState = (typeof sessionStates)[number];

export const revokeReasons = [
  "session_ended",
  "session_expired",
  "leaked",
  "requested",
  "open_failed",
] as const;
export type RevokeReason = (typeof revokeReasons)[number];

export const credentialStates = ["active", "revoked", "expired", "revocation_pending"] as const;
export type CredentialState = (typeof credentialStates)[number];

export const sessionRecordSchema = z.object({
  id: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  state: z.enum(sessionStates),
  createdAt: z.number(),
  expiresAt: z.number(),
  endedAt: z.number().optional(),
  endReason: z.string().optional(),
  agentTokenHash: z.string(),
  credentialIds: z.array(z.string()),
  /** The credential the agent is served for each `provider/grant`. */
  current: z.record(z.string(), z.string()),
});
export type SessionRecord = z.infer<typeof sessionRecordSchema>;

export const credentialRecordSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  scope: z.string(),
  grant: z.string(),
  provider: z.enum(providerKinds),
  /** `session`: minted at open or refreshed for the agent; `task`: requested by the orchestrator. */
  purpose: z.enum(["session", "task"]),
  reference: z.record(z.string(), z.union([z.string(), z.number()])),
  fingerprint: z.string(),
  issuedAt: z.number(),
  expiresAt: z.number(),
  state: z.enum(credentialStates),
  revokedAt: z.number().optional(),
  revokeReason: z.enum(revokeReasons).optional(),
  revocationError: z.string().optional(),
});
export type CredentialRecord = z.infer<typeof credentialRecordSchema>;

/** How long a credential's leak matchers outlive it: a secret revoked or expired this recently is still recognised. */
export const RECENT_LEAK_WINDOW_MS = 24 * 3600 * 1000;

/** How long records stay readable after their session ended, for auditors and late scans. */
export const RETENTION_MS = 7 * 24 * 3600 * 1000;

// Every key of one session shares the hash tag {s:<id>}, so a session's records change in one
// atomic commit, also on Redis Cluster.
export const keys = {
  session: (id: string) => `{s:${id}}:session`,
  credential: (sessionId: string, credentialId: string) => `{s:${sessionId}}:cred:${credentialId}`,
  secret: (sessionId: string, credentialId: string) => `{s:${sessionId}}:secret:${credentialId}`,
  // Named by the anchor scheme: matchers stored under another scheme cannot be probed for, so a
  // broker on a new scheme does not read them (they expire with the window above).
  matchers: (sessionId: string, credentialId: string) =>
    `{s:${sessionId}}:matchers:v${ANCHOR_SCHEME}:${credentialId}`,
  expiryIndex: "index:sessions-by-expiry",
  /** Credentials whose leak matchers are to be stored before their secret expires (matchersDueAt). */
  matchersDue: "index:matchers-due",
  pendingRevocations: "index:pending-revocations",
} as const;

/**
 * Agent tokens carry their session id, so the metadata endpoint finds the session without a
 * global index; the random part is what authenticates, checked against the stored SHA-256.
 */
export function agentTokenFor(sessionId: string, random: string): string {
  return `lka_${sessionId}.${random}`;
}

export function sessionIdOfAgentToken(token: string): string | undefined {
  if (!token.startsWith("lka_")) return undefined;
  const dot = token.lastIndexOf(".");
  return dot > 4 ? token.slice(4, dot) : undefined;
}

export function grantKey(provider: string, grant: string): string {
  return `${provider}/${grant}`;
}

/** A credential as a member of a store index: `<sessionId>/<credentialId>`. */
export function credentialMember(record: Pick<CredentialRecord, "sessionId" | "id">): string {
  return `${record.sessionId}/${record.id}`;
}
