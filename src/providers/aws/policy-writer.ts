import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import type { Clock } from "../../clock.js";
import { randomId } from "../../crypto/hash.js";
import type { Logger } from "../../logging.js";
import { claimLease } from "../../store/lease.js";
import type { Store } from "../../store/types.js";
import { awsErrorCode } from "./errors.js";
import {
  addRevocation,
  fallBackToIssueTime,
  isRevoked,
  parseRevocationPolicy,
  prune,
  REVOCATION_POLICY_NAME,
  renderRevocationPolicy,
} from "./revocation-policy.js";

export interface PolicyWriteResult {
  /** True when the Deny for the session is in the role's policy. */
  written: boolean;
  /** The role's budget was spent and every credential issued before now is denied instead. */
  fellBack?: boolean;
  error?: string;
}

export interface RevocationPolicyWriter {
  /** Adds a Deny for `sessionId` on the role; resolves once IAM has it (or with the error). */
  revoke(
    roleName: string,
    sessionId: string,
    expiresAt: number,
    issuedAt: number,
  ): Promise<PolicyWriteResult>;
}

interface Pending {
  sessionId: string;
  expiresAt: number;
  issuedAt: number;
  resolve(result: PolicyWriteResult): void;
}

const LOCK_TTL_MS = 15_000;
const LOCK_WAIT_MS = 20_000;

/**
 * IAM has no conditional write, so concurrent read-modify-write cycles on one role policy
 * (several replicas revoking at once) would lose updates. Writers therefore take a per-role lease
 * in the shared store, and within a process revocations for one role are coalesced, so a burst
 * of N revocations costs a few IAM round trips instead of N.
 */
export function createRevocationPolicyWriter(deps: {
  iam: IAMClient;
  store: Store;
  clock: Clock;
  logger: Logger;
}): RevocationPolicyWriter {
  const owner = randomId("policy-writer");
  const pending = new Map<string, Pending[]>();
  const flushing = new Set<string>();

  const withRoleLock = async <T>(roleName: string, work: () => Promise<T>): Promise<T> => {
    const lease = `aws-role-policy:${roleName}`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    let delay = 10;
    while (!(await claimLease(deps.store, lease, owner, LOCK_TTL_MS))) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the role policy lock");
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 250);
    }
    try {
      return await work();
    } finally {
      const held = await deps.store.get(`lease:${lease}`);
      if (held?.value === owner)
        await deps.store.commit(
          [{ key: `lease:${lease}`, version: held.version }],
          [{ op: "delete", key: `lease:${lease}` }],
        );
    }
  };

  const readPolicy = async (roleName: string): Promise<string | undefined> => {
    try {
      const answer = await deps.iam.send(
        new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME }),
      );
      // IAM returns policy documents URL-encoded (RFC 3986) and the SDK does not decode them.
      return answer.PolicyDocument ? decodeURIComponent(answer.PolicyDocument) : undefined;
    } catch (error) {
      if (awsErrorCode(error) === "NoSuchEntity") return undefined;
      throw error;
    }
  };

  const writePolicy = async (roleName: string, document: string | undefined) => {
    if (document === undefined) {
      await deps.iam
        .send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME }))
        .catch((error) => {
          if (awsErrorCode(error) !== "NoSuchEntity") throw error;
        });
      return;
    }
    await deps.iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: REVOCATION_POLICY_NAME,
        PolicyDocument: document,
      }),
    );
  };

  const apply = async (roleName: string, batch: Pending[]): Promise<{ fellBack: boolean }> =>
    withRoleLock(roleName, async () => {
      const now = deps.clock.now();
      const state = parseRevocationPolicy(await readPolicy(roleName));
      prune(state, now);
      for (const item of batch) addRevocation(state, item.sessionId, item.expiresAt);
      try {
        await writePolicy(roleName, renderRevocationPolicy(state));
        return { fellBack: false };
      } catch (error) {
        if (awsErrorCode(error) !== "LimitExceeded") throw error;
        deps.logger.warn(
          { role: roleName },
          "role policy budget spent; denying every credential issued before now instead",
        );
        fallBackToIssueTime(state, now);
        await writePolicy(roleName, renderRevocationPolicy(state));
        return { fellBack: true };
      }
    });

  const flush = async (roleName: string) => {
    if (flushing.has(roleName)) return;
    flushing.add(roleName);
    try {
      for (let batch = pending.get(roleName); batch && batch.length > 0; batch = pending.get(roleName)) {
        pending.delete(roleName);
        try {
          const { fellBack } = await apply(roleName, batch);
          // Read back what IAM holds: success is claimed only for what is really there.
          const held = parseRevocationPolicy(await readPolicy(roleName));
          for (const item of batch) {
            const written = isRevoked(held, item.sessionId, item.issuedAt);
            item.resolve(
              written
                ? { written, ...(fellBack ? { fellBack } : {}) }
                : { written, error: "deny not present after write" },
            );
          }
        } catch (error) {
          const code = awsErrorCode(error) ?? "IamError";
          deps.logger.warn({ role: roleName, code }, "could not update the revocation policy");
          for (const item of batch) item.resolve({ written: false, error: code });
        }
      }
    } finally {
      flushing.delete(roleName);
    }
  };

  return {
    revoke(roleName, sessionId, expiresAt, issuedAt) {
      return new Promise((resolve) => {
        const list = pending.get(roleName) ?? [];
        list.push({ sessionId, expiresAt, issuedAt, resolve });
        pending.set(roleName, list);
        void flush(roleName);
      });
    },
  };
}
