import type { AuditLog } from "../audit/log.js";
import type { Clock } from "../clock.js";
import { LatchkeyError } from "../errors.js";
import type { Metrics } from "../http/metrics.js";
import type { Logger } from "../logging.js";
import type { ProviderRegistry } from "../providers/registry.js";
import {
  createScanner,
  type Finding,
  type IssuedMatcher,
  type Scanner,
  type ScanResult,
  type ScanSource,
} from "../scanner/index.js";
import type { CompiledScope } from "../scopes/load.js";
import type { Client } from "../sessions/client.js";
import { credentialMatchers } from "../sessions/matchers.js";
import { keys } from "../sessions/records.js";
import type { SessionRepository } from "../sessions/repository.js";
import type { SessionService } from "../sessions/service.js";
import type { Store } from "../store/types.js";

export interface LeakResponse {
  credentialId: string;
  sessionId: string;
  /** The credential's state after the response: revoked now, or already not live. */
  state: string;
}

export interface SessionScanResult {
  bytes: number;
  findings: Finding[];
  revoked: LeakResponse[];
  durationMs: number;
}

/** The broker's side of leak detection: what to look for, and what to do when it is found. */
export interface LeakService {
  /** The matchers of every credential a session was issued (live, and revoked within the recent window). */
  matchers(client: Client, sessionId: string): Promise<IssuedMatcher[]>;
  /**
   * Scans one session's output. Besides that session's own secrets (recently revoked ones
   * included) it looks for every live session's, since output can carry another sandbox's
   * credential; each live credential found is revoked at once.
   */
  scan(client: Client, sessionId: string, source: ScanSource, requestId: string): Promise<SessionScanResult>;
}

/** How often, at most, a scan that could not look through every live session says so. */
const LIMIT_WARNING_EVERY_MS = 10 * 60 * 1000;

export function createLeakService(deps: {
  store: Store;
  repo: SessionRepository;
  sessions: SessionService;
  audit: AuditLog;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  scopes: ReadonlyMap<string, CompiledScope>;
  providers: ProviderRegistry;
  /** Live sessions whose credentials every scan also looks for, those expiring soonest first. */
  maxLiveSessions: number;
}): LeakService {
  const cache = new Map<string, IssuedMatcher[]>();
  const awsAccounts = [
    ...new Set(
      [...deps.scopes.values()].flatMap((scope) =>
        [...scope.grants.values()].flatMap((g) =>
          g.provider === "aws" ? [g.roleArn.split(":")[4] ?? ""] : [],
        ),
      ),
    ),
  ].filter((account) => /^\d{12}$/.test(account));

  // A credential's matchers never change, so each is read once per process: those stored at
  // issuance, or, for a credential issued before matchers were stored under the current anchor
  // scheme, derived from its secret while it is live.
  const matchersOf = async (sessionId: string, credentialIds: readonly string[]) => {
    // Answered from what this call read, not from the cache again afterwards: a concurrent scan
    // may forget entries meanwhile (see scan), which must cost a re-read, never a matcher.
    const found = new Map<string, IssuedMatcher[]>();
    const missing: string[] = [];
    for (const id of credentialIds) {
      const cached = cache.get(id);
      if (cached) found.set(id, cached);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const stored = await deps.repo.readMatchers(sessionId, missing);
      for (const id of missing) {
        let matchers = stored.get(id);
        if (!matchers) {
          const credential = await deps.repo.getCredential(sessionId, id);
          const secret = credential ? await deps.repo.readSecret(credential.record) : undefined;
          matchers =
            credential && secret ? credentialMatchers(deps.providers, credential.record, secret) : [];
        }
        cache.set(id, matchers);
        found.set(id, matchers);
      }
    }
    return credentialIds.flatMap((id) => found.get(id) ?? []);
  };

  let limitWarnedAt = Number.NEGATIVE_INFINITY;

  /** The credentials of every live session but `except`, and their matchers: one round trip per kind. */
  const liveCredentials = async (except: string) => {
    const live = await deps.store.indexRange(
      keys.expiryIndex,
      Number.POSITIVE_INFINITY,
      deps.maxLiveSessions,
    );
    const now = deps.clock.now();
    if (live.length === deps.maxLiveSessions && now - limitWarnedAt >= LIMIT_WARNING_EVERY_MS) {
      limitWarnedAt = now;
      deps.logger.warn(
        { limit: deps.maxLiveSessions },
        "scans look for the credentials of the live sessions expiring soonest only: there are more than limits.scanLiveSessions",
      );
    }
    const ids = live.filter(({ member, score }) => member !== except && score > now).map((e) => e.member);
    const sessions = (await deps.repo.getSessions(ids)).flatMap((session) =>
      session?.record.state === "active" ? [session.record] : [],
    );
    const matchers = await Promise.all(sessions.map((s) => matchersOf(s.id, s.credentialIds)));
    return { credentialIds: sessions.flatMap((s) => s.credentialIds), matchers: matchers.flat() };
  };

  // The scanner of the last scan, with the credentials it looks for. Between two scans the set of
  // live credentials rarely changes, and building a scanner for thousands of them costs far more
  // than the scan of a typical body. The set is read from the store at every scan, so a
  // credential issued by any replica is looked for from the next scan on.
  let last: { credentialIds: ReadonlySet<string>; scanner: Scanner } | undefined;
  const scannerFor = (credentialIds: ReadonlySet<string>, matchers: readonly IssuedMatcher[]): Scanner => {
    if (last && sameSet(last.credentialIds, credentialIds)) return last.scanner;
    last = { credentialIds, scanner: createScanner({ matchers, awsAccounts }) };
    return last.scanner;
  };

  const respond = async (
    client: Client,
    scanned: string,
    finding: Finding,
    requestId: string,
  ): Promise<LeakResponse> => {
    const sessionId = finding.sessionId as string;
    const credentialId = finding.credentialId as string;
    const stored = await deps.repo.getCredential(sessionId, credentialId);
    const live = stored?.record.state === "active" && stored.record.expiresAt > deps.clock.now();
    deps.metrics.leaksDetected.inc({ source: "api" });
    await deps.audit.record({
      action: "leak.detected",
      outcome: "success",
      actor: client.id,
      sessionId,
      ...(stored
        ? { scope: stored.record.scope, grant: stored.record.grant, provider: stored.record.provider }
        : {}),
      credentialId,
      fingerprint: finding.fingerprint,
      requestId,
      reason: live ? "revoking" : "not live",
      detail: { scannedSession: scanned, encoding: finding.encoding ?? "raw", offset: finding.offset },
    });
    if (!stored || !live) return { credentialId, sessionId, state: stored?.record.state ?? "unknown" };
    const revoked = await deps.sessions.revokeCredential(stored.record, "leaked", client.id, requestId);
    return { credentialId, sessionId, state: revoked.state };
  };

  return {
    async matchers(client, sessionId) {
      // Auditors may load any session's matchers (they hold no secret); orchestrators only their own.
      if (client.role === "auditor") {
        const session = await deps.repo.getSession(sessionId);
        return session ? matchersOf(sessionId, session.record.credentialIds) : [];
      }
      const { session } = await deps.sessions.get(client, sessionId);
      return matchersOf(sessionId, session.credentialIds);
    },

    async scan(client, sessionId, source, requestId) {
      const started = Date.now();
      const { session } = await deps.sessions.get(client, sessionId);
      const [own, others] = await Promise.all([
        matchersOf(sessionId, session.credentialIds),
        liveCredentials(sessionId),
      ]);
      const credentialIds = new Set([...session.credentialIds, ...others.credentialIds]);
      // Forget matchers of credentials neither this session nor a live one holds any more.
      for (const id of cache.keys()) if (!credentialIds.has(id)) cache.delete(id);
      const scanner = scannerFor(credentialIds, [...own, ...others.matchers]);
      const revoked: LeakResponse[] = [];
      const handled = new Set<string>();
      // Each leak is answered once the scanner settles its finding (a window's length past the
      // secret) while the rest of the body is still arriving, not when the body ends: streamed
      // output can run as long as the job. One at a time, so that the answer's `revoked` list and
      // the audit log follow the order of the input.
      let responses = Promise.resolve();
      let responseFailure: unknown;
      const onFinding = (finding: Finding) => {
        if (!finding.credentialId || !finding.sessionId || handled.has(finding.credentialId)) return;
        handled.add(finding.credentialId);
        responses = responses
          .then(() => respond(client, sessionId, finding, requestId))
          .then(
            (response) => {
              revoked.push(response);
            },
            (error: unknown) => {
              // Said now, not when the body ends; and the scan stops at the next chunk (below).
              deps.logger.error(
                {
                  requestId,
                  sessionId: finding.sessionId,
                  credentialId: finding.credentialId,
                  code: error instanceof LatchkeyError ? error.code : "INTERNAL",
                },
                "a leaked credential could not be revoked; the scan stops",
              );
              responseFailure ??= error;
            },
          );
      };
      // A body that breaks off (the client went away, a malformed chunk) still had a leak in what
      // did arrive: the scan ends there normally, and its findings are answered like any others.
      let bodyFailure: unknown;
      let result: ScanResult;
      try {
        result = await scanner.scan(
          untilFailure(
            source,
            (error) => {
              bodyFailure = error;
            },
            () => responseFailure !== undefined,
          ),
          { onFinding },
        );
      } finally {
        await responses;
      }
      if (responseFailure !== undefined) throw responseFailure;
      await deps.audit.record({
        action: "scan.completed",
        outcome: bodyFailure === undefined ? "success" : "failure",
        actor: client.id,
        sessionId,
        requestId,
        ...(bodyFailure === undefined ? {} : { reason: "body incomplete" }),
        detail: { bytes: result.bytes, findings: result.findings.length, issued: handled.size },
      });
      if (bodyFailure !== undefined) {
        throw new LatchkeyError(
          "BAD_REQUEST",
          "The request body broke off before its end; what arrived was scanned.",
          { cause: bodyFailure },
        );
      }
      return { bytes: result.bytes, findings: result.findings, revoked, durationMs: Date.now() - started };
    },
  };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of b) if (!a.has(item)) return false;
  return true;
}

/**
 * The source's chunks until it ends, fails or `stopped()` holds. A failure is handed to
 * `onFailure`, not thrown, so that the scan still settles what arrived.
 */
function untilFailure(
  source: ScanSource,
  onFailure: (error: unknown) => void,
  stopped: () => boolean,
): ScanSource {
  if (typeof source === "string" || source instanceof Uint8Array) return source;
  return (async function* () {
    try {
      for await (const chunk of source) {
        if (stopped()) return;
        yield chunk;
      }
    } catch (error) {
      onFailure(error);
    }
  })();
}
