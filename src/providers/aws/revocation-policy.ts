// The inline role policy that revokes STS sessions. STS credentials cannot be deleted, but every
// request is evaluated against the role's policies, so a Deny on the session's SourceIdentity
// stops its credentials at once. Entries are grouped by the hour their credentials expire, so
// a whole group is pruned once it can no longer match a live credential, without a side store.

export const REVOCATION_POLICY_NAME = "LatchkeyRevokedSessions";
const BUCKET_PREFIX = "LatchkeyRevokedUntil";
const ISSUED_BEFORE_SID = "LatchkeyRevokedIssuedBefore";
const HOUR_MS = 3_600_000;
/** The longest an STS role session can live: a deny on issue time is needed no longer than this. */
export const MAX_STS_SESSION_MS = 12 * HOUR_MS;

export interface RevocationState {
  /** Hour bucket (ms, the instant the group's credentials have all expired) → session ids. */
  buckets: Map<number, Set<string>>;
  /** Credentials issued before this instant are denied (the fallback when the size budget is spent). */
  issuedBefore: number | undefined;
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Condition?: Record<string, Record<string, string | string[]>>;
}

const bucketSid = (until: number) =>
  `${BUCKET_PREFIX}${new Date(until).toISOString().slice(0, 13).replace(/[-T]/g, "")}`;

function bucketFromSid(sid: string): number | undefined {
  const digits = sid.slice(BUCKET_PREFIX.length);
  if (!sid.startsWith(BUCKET_PREFIX) || !/^\d{10}$/.test(digits)) return undefined;
  const at = Date.UTC(
    +digits.slice(0, 4),
    +digits.slice(4, 6) - 1,
    +digits.slice(6, 8),
    +digits.slice(8, 10),
  );
  return Number.isNaN(at) ? undefined : at;
}

export function emptyState(): RevocationState {
  return { buckets: new Map(), issuedBefore: undefined };
}

/** Reads our own policy document; statements it does not recognise are dropped (it is ours alone). */
export function parseRevocationPolicy(document: string | undefined): RevocationState {
  const state = emptyState();
  if (!document) return state;
  const parsed = JSON.parse(document) as { Statement?: Statement | Statement[] };
  const statements = Array.isArray(parsed.Statement)
    ? parsed.Statement
    : parsed.Statement
      ? [parsed.Statement]
      : [];
  for (const statement of statements) {
    if (statement.Sid === ISSUED_BEFORE_SID) {
      const value = statement.Condition?.DateLessThan?.["aws:TokenIssueTime"];
      if (typeof value === "string") state.issuedBefore = Date.parse(value);
      continue;
    }
    const until = statement.Sid ? bucketFromSid(statement.Sid) : undefined;
    const ids = statement.Condition?.StringEquals?.["aws:SourceIdentity"];
    if (until === undefined || ids === undefined) continue;
    state.buckets.set(
      until,
      new Set([...(state.buckets.get(until) ?? []), ...(Array.isArray(ids) ? ids : [ids])]),
    );
  }
  return state;
}

/** Adds a revoked session whose credentials expire at `expiresAt`. */
export function addRevocation(state: RevocationState, sessionId: string, expiresAt: number): void {
  const until = Math.ceil(expiresAt / HOUR_MS) * HOUR_MS;
  const bucket = state.buckets.get(until) ?? new Set<string>();
  bucket.add(sessionId);
  state.buckets.set(until, bucket);
}

/** Drops what can no longer match a live credential. */
export function prune(state: RevocationState, now: number): void {
  for (const until of state.buckets.keys()) if (until <= now) state.buckets.delete(until);
  if (state.issuedBefore !== undefined && state.issuedBefore + MAX_STS_SESSION_MS <= now)
    state.issuedBefore = undefined;
}

/**
 * The fallback when the role's policy budget is spent: deny every credential issued before now.
 * It covers every listed session (all were issued earlier), so their entries are dropped.
 */
export function fallBackToIssueTime(state: RevocationState, now: number): void {
  state.buckets.clear();
  state.issuedBefore = now;
}

export function isRevoked(state: RevocationState, sessionId: string, issuedAt: number): boolean {
  if (state.issuedBefore !== undefined && issuedAt < state.issuedBefore) return true;
  for (const ids of state.buckets.values()) if (ids.has(sessionId)) return true;
  return false;
}

/** The compact document (IAM counts characters without white space against a 10,240 budget). */
export function renderRevocationPolicy(state: RevocationState): string | undefined {
  const statements: object[] = [];
  for (const [until, ids] of [...state.buckets.entries()].sort(([a], [b]) => a - b)) {
    if (ids.size === 0) continue;
    statements.push({
      Sid: bucketSid(until),
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceIdentity": [...ids].sort() } },
    });
  }
  if (state.issuedBefore !== undefined) {
    statements.push({
      Sid: ISSUED_BEFORE_SID,
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { DateLessThan: { "aws:TokenIssueTime": new Date(state.issuedBefore).toISOString() } },
    });
  }
  return statements.length === 0
    ? undefined
    : JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
