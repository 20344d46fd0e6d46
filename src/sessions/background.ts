import type { Clock } from "../clock.js";
import { randomId } from "../crypto/hash.js";
import type { Logger } from "../logging.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { claimLease } from "../store/lease.js";
import type { Store } from "../store/types.js";
import { preserveMatchers } from "./matchers.js";
import { keys } from "./records.js";
import type { SessionRepository } from "./repository.js";
import type { Revoker } from "./revoker.js";
import type { SessionService } from "./service.js";

export interface BackgroundWorker {
  /** One pass: end sessions past their expiry, retry pending revocations, keep leak matchers. */
  tick(): Promise<void>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

const BATCH = 100;

export function createBackgroundWorker(deps: {
  store: Store;
  clock: Clock;
  sessions: SessionService;
  repo: SessionRepository;
  revoker: Revoker;
  providers: ProviderRegistry;
  logger: Logger;
  leaseMs?: number;
}): BackgroundWorker {
  const owner = randomId("replica");
  const leaseMs = deps.leaseMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const expireDue = async (now: number) => {
    for (const { member } of await deps.store.indexRange(keys.expiryIndex, now, BATCH)) {
      // An ended (or unknown) session leaves the index whatever ended it.
      const ended = await deps.sessions.endBySystem(member, "expired");
      if (!ended || ended.session.state === "ended") await deps.store.indexRemove(keys.expiryIndex, member);
    }
  };

  const retryPending = async (now: number) => {
    for (const { member } of await deps.store.indexRange(keys.pendingRevocations, now, BATCH)) {
      const [sessionId = "", credentialId = ""] = member.split("/");
      const found = await deps.repo.getCredential(sessionId, credentialId);
      if (found?.record.state !== "revocation_pending") {
        await deps.store.indexRemove(keys.pendingRevocations, member);
        continue;
      }
      await deps.revoker.revoke(found.record, found.record.revokeReason ?? "session_ended", "system");
    }
  };

  // A credential about to expire unrevoked has its matchers stored while its secret is there.
  // Every due one, not a batch per pass: one left for the next pass may lose its secret first.
  const preserveDue = async (now: number) => {
    for (;;) {
      const due = await deps.store.indexRange(keys.matchersDue, now, BATCH);
      for (const { member } of due) {
        const [sessionId = "", credentialId = ""] = member.split("/");
        const found = await deps.repo.getCredential(sessionId, credentialId);
        if (found) await preserveMatchers(deps, found.record, now);
        await deps.store.indexRemove(keys.matchersDue, member);
      }
      if (due.length < BATCH) return;
    }
  };

  const tick = async () => {
    // Only the lease holder works, so one replica ends a given session and retries a given revocation.
    if (!(await claimLease(deps.store, "background", owner, leaseMs))) return;
    const now = deps.clock.now();
    await expireDue(now);
    await retryPending(now);
    await preserveDue(now);
  };

  const guarded = () => {
    running ??= tick()
      .catch((error: unknown) =>
        deps.logger.warn({ err: error }, "background pass failed; retrying next interval"),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  return {
    tick,
    start(intervalMs) {
      timer = setInterval(guarded, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
