import type { AuditLog } from "../audit/log.js";
import type { Clock } from "../clock.js";
import { randomBuffer, sha256Hex } from "../crypto/hash.js";
import { LatchkeyError } from "../errors.js";
import type { Logger } from "../logging.js";
import type { Grant } from "../providers/grants.js";
import { type ProviderRegistry, providerFor } from "../providers/registry.js";
import type { CompiledScope } from "../scopes/load.js";
import type { Store, Write } from "../store/types.js";
import { mapLimit } from "../util/concurrency.js";
import { type Client, mayUseScope } from "./client.js";
import type { CredentialWithSecret, MintedCredential, Minter } from "./mint.js";
import {
  agentTokenFor,
  type CredentialRecord,
  grantKey,
  keys,
  type RevokeReason,
  type SessionRecord,
} from "./records.js";
import type { SessionRepository } from "./repository.js";
import type { Revoker } from "./revoker.js";

export interface OpenSessionInput {
  sessionId: string;
  scopes: string[];
  ttlSeconds?: number | undefined;
  labels?: Record<string, string> | undefined;
}

export interface IssueInput {
  scope: string;
  grant: string;
  narrow?: unknown;
}

export interface OpenedSession {
  session: SessionRecord;
  agentToken: string;
  credentials: MintedCredential[];
}

export interface EndedSession {
  session: SessionRecord;
  credentials: CredentialRecord[];
}

/** Told about session changes, e.g. to keep sandbox files in step. Failures are logged, never fatal. */
export interface SessionListener {
  opened?(session: SessionRecord, agentToken: string, credentials: MintedCredential[]): Promise<void>;
  refreshed?(session: SessionRecord, credential: CredentialWithSecret): Promise<void>;
  ended?(session: SessionRecord): Promise<void>;
}

export interface SessionService {
  open(client: Client, input: OpenSessionInput, requestId: string): Promise<OpenedSession>;
  issue(client: Client, sessionId: string, input: IssueInput, requestId: string): Promise<MintedCredential>;
  /** The session as its owner (or an admin) sees it; anyone else gets SESSION_NOT_FOUND. */
  get(
    client: Client,
    sessionId: string,
  ): Promise<{ session: SessionRecord; credentials: CredentialRecord[] }>;
  end(client: Client, sessionId: string, requestId: string): Promise<EndedSession>;
  /** Ends a session on the broker's own initiative (expiry, leak), whoever owns it. */
  endBySystem(sessionId: string, reason: "expired" | "leaked"): Promise<EndedSession | null>;
  /** Revokes one credential of a session at once (a leak), leaving the session open. */
  revokeCredential(
    credential: CredentialRecord,
    reason: RevokeReason,
    actor: string,
    requestId?: string,
  ): Promise<CredentialRecord>;
}

export interface SessionServiceDeps {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  logger: Logger;
  providers: ProviderRegistry;
  scopes: ReadonlyMap<string, CompiledScope>;
  repo: SessionRepository;
  minter: Minter;
  revoker: Revoker;
  listeners: readonly SessionListener[];
  maxConcurrentRevocations: number;
}

export function createSessionService(deps: SessionServiceDeps): SessionService {
  const { store, clock, audit, repo, minter, revoker } = deps;

  const notFound = (id: string) =>
    new LatchkeyError("SESSION_NOT_FOUND", `No session ${id} is visible to this client.`);

  const notify = async (
    event: keyof SessionListener,
    run: (l: SessionListener) => Promise<void> | undefined,
  ) => {
    for (const listener of deps.listeners) {
      try {
        await run(listener);
      } catch (error) {
        deps.logger.error({ err: error, event }, "session listener failed");
      }
    }
  };

  const resolveScopes = (client: Client, names: readonly string[]): CompiledScope[] => {
    const resolved: CompiledScope[] = [];
    for (const name of new Set(names)) {
      const scope = deps.scopes.get(name);
      // Unknown and forbidden look the same, so scope names cannot be probed.
      if (!scope || !mayUseScope(client, scope)) {
        throw new LatchkeyError(
          "SCOPE_NOT_ALLOWED",
          `Scope ${name} does not exist or is not allowed for this client.`,
          {
            extra: { scope: name },
          },
        );
      }
      resolved.push(scope);
    }
    return resolved;
  };

  /** The agent reads credentials by provider and grant name, so those must be unambiguous in a session. */
  const sessionGrants = (scopes: readonly CompiledScope[]) => {
    const grants = new Map<string, { scope: CompiledScope; grant: Grant }>();
    for (const scope of scopes) {
      for (const grant of scope.grants.values()) {
        const key = grantKey(grant.provider, grant.name);
        const other = grants.get(key);
        if (other) {
          throw new LatchkeyError(
            "VALIDATION_FAILED",
            `Scopes ${other.scope.name} and ${scope.name} both have a ${grant.provider} grant named ${grant.name}; open them in separate sessions.`,
          );
        }
        grants.set(key, { scope, grant });
      }
    }
    return grants;
  };

  const loadOwned = async (client: Client, sessionId: string) => {
    const found = await repo.getSession(sessionId);
    if (!found) throw notFound(sessionId);
    if (client.role !== "admin" && found.record.clientId !== client.id) throw notFound(sessionId);
    return found;
  };

  const persistCredentials = (minted: readonly MintedCredential[], now: number): Write[] =>
    minted.flatMap((m) => repo.mintedWrites(m, now));

  const revokeAll = async (
    credentials: readonly CredentialRecord[],
    reason: RevokeReason,
    actor: string,
    requestId?: string,
  ) =>
    mapLimit(credentials, deps.maxConcurrentRevocations, (credential) =>
      revoker.revoke(credential, reason, actor, requestId),
    );

  /** Moves a session to `ended`, revoking every credential still live. Safe to run twice. */
  const finish = async (
    sessionId: string,
    reason: "requested" | "expired" | "leaked",
    actor: string,
    requestId?: string,
  ): Promise<EndedSession | null> => {
    let current = await repo.getSession(sessionId);
    while (current && current.record.state === "active") {
      const ending: SessionRecord = { ...current.record, state: "ending", endReason: reason };
      const now = clock.now();
      if (await repo.saveSession(ending, current.version, repo.sessionTtlMs(ending, now))) {
        current = { record: ending, version: current.version + 1 };
        break;
      }
      current = await repo.getSession(sessionId);
    }
    if (!current) return null;
    const stored = await repo.getCredentials(sessionId, current.record.credentialIds);
    if (current.record.state === "ended")
      return { session: current.record, credentials: stored.map((c) => c.record) };

    const revokeReason: RevokeReason =
      reason === "requested" ? "session_ended" : reason === "expired" ? "session_expired" : "leaked";
    const credentials = await revokeAll(
      stored.map((c) => c.record),
      revokeReason,
      actor,
      requestId,
    );
    for (;;) {
      const now = clock.now();
      const ended: SessionRecord = { ...current.record, state: "ended", endedAt: now, current: {} };
      if (await repo.saveSession(ended, current.version, repo.sessionTtlMs(ended, now))) {
        await store.indexRemove(keys.expiryIndex, sessionId);
        const pending = credentials.filter((c) => c.state === "revocation_pending").length;
        await audit.record({
          action: reason === "expired" ? "session.expired" : "session.ended",
          outcome: pending === 0 ? "success" : "failure",
          actor,
          sessionId,
          reason,
          ...(requestId === undefined ? {} : { requestId }),
          detail: { credentials: credentials.length, revocationPending: pending },
        });
        await notify("ended", (l) => l.ended?.(ended));
        return { session: ended, credentials };
      }
      const again = await repo.getSession(sessionId);
      if (!again) return null;
      if (again.record.state === "ended") return { session: again.record, credentials };
      current = again;
    }
  };

  return {
    async open(client, input, requestId) {
      const scopes = resolveScopes(client, input.scopes);
      const grants = sessionGrants(scopes);
      const now = clock.now();
      const maxTtl = Math.min(...scopes.map((s) => s.maxTtlSeconds));
      const ttlSeconds = Math.min(input.ttlSeconds ?? maxTtl, maxTtl);
      const agentToken = agentTokenFor(input.sessionId, randomBuffer(32).toString("base64url"));
      const session: SessionRecord = {
        id: input.sessionId,
        clientId: client.id,
        scopes: scopes.map((s) => s.name),
        labels: input.labels ?? {},
        state: "active",
        createdAt: now,
        expiresAt: now + ttlSeconds * 1000,
        agentTokenHash: sha256Hex(agentToken),
        credentialIds: [],
        current: {},
      };
      const actor = client.id;
      const pending: Promise<unknown>[] = [];
      const ttlMs = repo.sessionTtlMs(session, now);
      const taken = () =>
        new LatchkeyError(
          "SESSION_EXISTS",
          `Session ${input.sessionId} already exists; session ids are never reused.`,
        );
      // The expiry entry is written first and never overwrites another session's: an entry
      // without an active session is dropped by the sweeper, while an active session missing
      // from the index would never be ended.
      const indexing = store.indexAdd(keys.expiryIndex, session.id, session.expiresAt, {
        onlyIfAbsent: true,
      });
      // Awaited below; observed now so that an early exit (id taken) leaves no unhandled rejection.
      indexing.catch(() => {});
      // Where revoking one credential denies the whole session id (AWS), the id is reserved
      // before anything is minted: a duplicate open that minted and then revoked would revoke the
      // winner's credentials. Elsewhere the id is claimed by the final, guarded commit.
      const reserve = [...grants.values()].some(
        ({ grant }) => providerFor(deps.providers, grant.provider)?.revocationCoversSession,
      );
      if (reserve && !(await repo.saveSession(session, 0, ttlMs))) throw taken();
      const version = reserve ? 1 : 0;
      const [results] = await Promise.all([
        Promise.allSettled(
          [...grants.values()].map(({ scope, grant }) =>
            minter.mint({ session, scope: scope.name, grant, purpose: "session", actor, requestId, pending }),
          ),
        ),
        indexing,
      ]);
      const minted = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      const revokeMinted = async (reason: RevokeReason) => {
        await Promise.all(pending);
        await revokeAll(
          minted.map((m) => m.record),
          reason,
          actor,
          requestId,
        );
      };
      const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure) {
        // Nothing half-open: whatever was minted is revoked, and the id stays taken as ended.
        await revokeMinted("open_failed");
        const endedAt = clock.now();
        const failed: SessionRecord = {
          ...session,
          state: "ended",
          endedAt,
          endReason: "open_failed",
          credentialIds: minted.map((m) => m.record.id),
        };
        if (await repo.saveSession(failed, version, repo.sessionTtlMs(failed, endedAt))) {
          await store.indexRemove(keys.expiryIndex, session.id);
        }
        await audit.record({
          action: "session.open_failed",
          outcome: "failure",
          actor,
          sessionId: session.id,
          requestId,
          reason: (failure.reason as { code?: string }).code ?? "PROVIDER_ERROR",
        });
        throw failure.reason;
      }
      const active: SessionRecord = {
        ...session,
        credentialIds: minted.map((m) => m.record.id),
        current: Object.fromEntries(
          minted.map((m) => [grantKey(m.record.provider, m.record.grant), m.record.id]),
        ),
      };
      if (!(await repo.saveSession(active, version, ttlMs, persistCredentials(minted, now)))) {
        // Reserved: the session was ended while minting. Not reserved: another open won the id.
        await revokeMinted(reserve ? "session_ended" : "open_failed");
        if (!reserve) throw taken();
        throw new LatchkeyError(
          "SESSION_NOT_ACTIVE",
          `Session ${session.id} was ended while it was being opened.`,
        );
      }
      await Promise.all([
        ...pending,
        audit.record({
          action: "session.opened",
          outcome: "success",
          actor,
          sessionId: active.id,
          requestId,
          detail: {
            scopes: active.scopes.join(","),
            credentials: minted.length,
            expiresAt: new Date(active.expiresAt).toISOString(),
          },
        }),
      ]);
      await notify("opened", (l) => l.opened?.(active, agentToken, minted));
      return { session: active, agentToken, credentials: minted };
    },

    async issue(client, sessionId, input, requestId) {
      const found = await loadOwned(client, sessionId);
      if (found.record.state !== "active" || found.record.expiresAt <= clock.now()) {
        throw new LatchkeyError(
          "SESSION_NOT_ACTIVE",
          `Session ${sessionId} is ${found.record.state}; it cannot be given credentials.`,
        );
      }
      if (!found.record.scopes.includes(input.scope)) {
        throw new LatchkeyError(
          "SCOPE_NOT_ALLOWED",
          `Session ${sessionId} was not opened with scope ${input.scope}.`,
          {
            extra: { scope: input.scope },
          },
        );
      }
      const [scope] = resolveScopes(client, [input.scope]);
      const grant = scope?.grants.get(input.grant);
      if (!scope || !grant) {
        throw new LatchkeyError("GRANT_NOT_FOUND", `Scope ${input.scope} has no grant ${input.grant}.`);
      }
      const provider = providerFor(deps.providers, grant.provider);
      if (!provider)
        throw new LatchkeyError("PROVIDER_UNAVAILABLE", `The ${grant.provider} provider is not configured.`);
      let effective: Grant = grant;
      if (input.narrow !== undefined) {
        const parsed = provider.narrowSchema.safeParse(input.narrow);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new LatchkeyError(
            "VALIDATION_FAILED",
            `narrow${issue?.path.length ? `.${issue.path.join(".")}` : ""}: ${issue?.message ?? "invalid"}`,
          );
        }
        effective = provider.narrow(grant as never, parsed.data) as Grant;
      }
      const minted = await minter.mint({
        session: found.record,
        scope: scope.name,
        grant: effective,
        purpose: "task",
        actor: client.id,
        requestId,
      });
      // Record the credential on the session; a concurrent change only means re-reading.
      let current = found;
      for (;;) {
        if (current.record.state !== "active") {
          await revoker.revoke(minted.record, "session_ended", client.id, requestId);
          throw new LatchkeyError(
            "SESSION_NOT_ACTIVE",
            `Session ${sessionId} ended while the credential was minted.`,
          );
        }
        const now = clock.now();
        const updated = {
          ...current.record,
          credentialIds: [...current.record.credentialIds, minted.record.id],
        };
        if (
          await repo.saveSession(
            updated,
            current.version,
            repo.sessionTtlMs(updated, now),
            persistCredentials([minted], now),
          )
        ) {
          return minted;
        }
        const again = await repo.getSession(sessionId);
        if (!again) throw notFound(sessionId);
        current = again;
      }
    },

    async get(client, sessionId) {
      const found = await loadOwned(client, sessionId);
      const credentials = await repo.getCredentials(sessionId, found.record.credentialIds);
      const now = clock.now();
      return {
        session: found.record,
        credentials: credentials.map(({ record }) =>
          record.state === "active" && record.expiresAt <= now ? { ...record, state: "expired" } : record,
        ),
      };
    },

    async end(client, sessionId, requestId) {
      await loadOwned(client, sessionId);
      const ended = await finish(sessionId, "requested", client.id, requestId);
      if (!ended) throw notFound(sessionId);
      return ended;
    },

    endBySystem(sessionId, reason) {
      return finish(sessionId, reason, "system");
    },

    revokeCredential(credential, reason, actor, requestId) {
      return revoker.revoke(credential, reason, actor, requestId);
    },
  };
}
