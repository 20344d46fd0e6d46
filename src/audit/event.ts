import { z } from "zod";

export const auditActions = [
  "session.opened",
  "session.open_failed",
  "session.ending",
  "session.ended",
  "session.expired",
  "credential.issued",
  "credential.issue_failed",
  "credential.read",
  "credential.refreshed",
  "credential.revoked",
  "credential.revocation_failed",
  "leak.detected",
  "auth.denied",
  "token.introspected",
  "scan.completed",
] as const;
export type AuditAction = (typeof auditActions)[number];

export const auditOutcomes = ["success", "failure", "denied"] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

/** What a caller records; the log adds id, seq, time and the chain hashes. */
export interface AuditInput {
  action: AuditAction;
  outcome: AuditOutcome;
  /** Client id, `agent:<sessionId>`, or `system`. */
  actor: string;
  sessionId?: string;
  scope?: string;
  grant?: string;
  provider?: string;
  credentialId?: string;
  /** Hex SHA-256 of a secret: the only trace of a secret the audit log ever holds. */
  fingerprint?: string;
  requestId?: string;
  reason?: string;
  /** Small, non-secret facts (counts, states, error codes). */
  detail?: Record<string, string | number | boolean>;
}

export interface AuditEvent extends AuditInput {
  id: string;
  seq: number;
  time: string;
  prevHash: string;
  hash: string;
}

export const auditQuerySchema = z
  .object({
    sessionId: z.string().max(64).optional(),
    action: z.enum(auditActions).optional(),
    provider: z.string().max(16).optional(),
    clientId: z.string().max(64).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    order: z.enum(["newest", "oldest"]).default("newest"),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, "must be a cursor returned by a previous page")
      .optional(),
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuerySchema>;
