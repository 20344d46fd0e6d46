import type { AuditLog } from "../audit/log.js";
import type { Clock } from "../clock.js";
import { constantTimeEqual, sha256Hex } from "../crypto/hash.js";
import { LatchkeyError } from "../errors.js";
import type { Logger } from "../logging.js";
import type { CompiledScope } from "../scopes/load.js";
import { singleFlight } from "../util/concurrency.js";
import type { CredentialWithSecret, MintedCredential, Minter } from "./mint.js";
import {
  type CredentialRecord,
  grantKey,
  type SessionRecord,
  sessionIdOfAgentToken,
  sessionIdPattern,
} from "./records.js";
import type { SessionRepository } from "./repository.js";
import type { Revoker } from "./revoker.js";
import type { SessionListener } from "./service.js";

export interface AgentGrant {
  provider: string;
  grant: string;
  scope: string;
  expiresAt: number;
  /** For GitHub grants: the host git uses the token for, so the git credential helper can choose. */
  gitHost?: string;
}

/** What the metadata endpoint (and the file sink) may do on behalf of a session's agent. */
export interface AgentAccess {
  /** The active session an agent token belongs to; UNAUTHENTICATED for anything else. */
  authenticate(token: string): Promise<SessionRecord>;
  grants(session: SessionRecord): Promise<AgentGrant[]>;
  /** The current credential of a grant, re-minted once a third of its lifetime is left. */
  read(
    session: SessionRecord,
    provider: string,
    grant: string,
    requestId?: string,
  ): Promise<CredentialWithSecret>;
}

/** Refresh when no more than this fraction of the credential's lifetime remains. */
const REFRESH_FRACTION = 1 / 3;

export function needsRefresh(record: Pick<CredentialRecord, "issuedAt" | "expiresAt">, now: number): boolean {
  return record.expiresAt - now <= (record.expiresAt - record.issuedAt) * REFRESH_FRACTION;
}

export function createAgentAccess(deps: {
  repo: SessionRepository;
  clock: Clock;
  audit: AuditLog;
  minter: Minter;
  revoker: Revoker;
  scopes: ReadonlyMap<string, CompiledScope>;
  listeners: readonly SessionListener[];
  logger: Logger;
}): AgentAccess {
  const { repo, clock } = deps;
  const refreshOnce = singleFlight<string, MintedCredential>();
  const unauthenticated = () =>
    new LatchkeyError("UNAUTHENTICATED", "The agent token is not valid for an active session.");

  const refresh = async (session: SessionRecord, credential: CredentialRecord): Promise<MintedCredential> => {
    const grant = deps.scopes.get(credential.scope)?.grants.get(credential.grant);
    if (!grant)
      throw new LatchkeyError("GRANT_NOT_FOUND", `Grant ${credential.grant} is no longer configured.`);
    const minted = await deps.minter.mint({
      session,
      scope: credential.scope,
      grant,
      purpose: "session",
      actor: `agent:${session.id}`,
    });
    const key = grantKey(credential.provider, credential.grant);
    for (;;) {
      const current = await repo.getSession(session.id);
      const now = clock.now();
      if (current?.record.state !== "active") {
        await deps.revoker.revoke(minted.record, "session_ended", "system");
        throw unauthenticated();
      }
      const updated: SessionRecord = {
        ...current.record,
        credentialIds: [...current.record.credentialIds, minted.record.id],
        current: { ...current.record.current, [key]: minted.record.id },
      };
      const saved = await repo.saveSession(updated, current.version, repo.sessionTtlMs(updated, now), [
        ...repo.mintedWrites(minted, now),
      ]);
      if (saved) {
        for (const listener of deps.listeners) {
          await listener.refreshed?.(updated, minted)?.catch((error: unknown) => {
            deps.logger.error({ err: error }, "session listener failed on refresh");
          });
        }
        return minted;
      }
    }
  };

  return {
    async authenticate(token) {
      if (token.length < 16 || token.length > 256) throw unauthenticated();
      const sessionId = sessionIdOfAgentToken(token);
      if (sessionId === undefined || !sessionIdPattern.test(sessionId)) throw unauthenticated();
      const hash = sha256Hex(token);
      const found = await repo.getSession(sessionId);
      if (!found || !constantTimeEqual(found.record.agentTokenHash, hash)) throw unauthenticated();
      if (found.record.state !== "active" || found.record.expiresAt <= clock.now()) throw unauthenticated();
      return found.record;
    },
    async grants(session) {
      const ids = Object.values(session.current);
      const credentials = await repo.getCredentials(session.id, ids);
      return credentials.map(({ record }) => ({
        provider: record.provider,
        grant: record.grant,
        scope: record.scope,
        expiresAt: record.expiresAt,
        ...(typeof record.reference.gitHost === "string" ? { gitHost: record.reference.gitHost } : {}),
      }));
    },
    async read(session, provider, grant, requestId) {
      const id = session.current[grantKey(provider, grant)];
      if (!id)
        throw new LatchkeyError("GRANT_NOT_FOUND", `This session has no ${provider} grant named ${grant}.`);
      const found = await repo.getCredential(session.id, id);
      const secret = found ? await repo.readSecret(found.record) : undefined;
      let served: CredentialWithSecret;
      if (!found || !secret || found.record.state !== "active" || needsRefresh(found.record, clock.now())) {
        const basis = found?.record;
        if (!basis) throw new LatchkeyError("GRANT_NOT_FOUND", `The credential for ${grant} is gone.`);
        served = await refreshOnce(`${session.id}/${id}`, () => refresh(session, basis));
      } else {
        served = { record: found.record, secret };
      }
      await deps.audit.record({
        action: "credential.read",
        outcome: "success",
        actor: `agent:${session.id}`,
        sessionId: session.id,
        scope: served.record.scope,
        grant: served.record.grant,
        provider: served.record.provider,
        credentialId: served.record.id,
        fingerprint: served.record.fingerprint,
        ...(requestId === undefined ? {} : { requestId }),
      });
      return served;
    },
  };
}
