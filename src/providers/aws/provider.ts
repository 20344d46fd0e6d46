import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { Clock } from "../../clock.js";
import type { Provider } from "../types.js";
import { mapAwsError } from "./errors.js";
import { type AwsGrant, type AwsNarrow, awsNarrowSchema } from "./grant.js";
import { narrowAwsGrant } from "./narrow.js";
import type { RevocationPolicyWriter } from "./policy-writer.js";

/** STS refuses role sessions shorter than this, whatever the session's remaining life. */
const MIN_DURATION_SECONDS = 900;
const MAX_SESSION_NAME = 64;

export function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf("/") + 1);
}

export function createAwsProvider(deps: {
  sts: STSClient;
  policies: RevocationPolicyWriter;
  clock: Clock;
}): Provider<AwsGrant, AwsNarrow> {
  return {
    kind: "aws",
    secretFields: ["SecretAccessKey", "SessionToken"],
    revocationCoversSession: true,
    narrowSchema: awsNarrowSchema,
    narrow: narrowAwsGrant,
    async mint(grant, context) {
      const remaining = Math.floor((context.notAfter - context.now) / 1000);
      // A session with less than 15 minutes left still gets the STS minimum; its end revokes it.
      const durationSeconds = Math.max(MIN_DURATION_SECONDS, Math.min(grant.durationSeconds, remaining));
      const tags = [
        { Key: "latchkey:session", Value: context.sessionId },
        { Key: "latchkey:scope", Value: context.scope },
        { Key: "latchkey:grant", Value: grant.name },
        ...Object.entries(grant.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      ];
      try {
        const answer = await deps.sts.send(
          new AssumeRoleCommand({
            RoleArn: grant.roleArn,
            RoleSessionName: `latchkey-${context.sessionId}`.slice(0, MAX_SESSION_NAME),
            // SourceIdentity cannot be changed by the session, survives role chaining and shows in
            // CloudTrail: it is what the revocation policy denies.
            SourceIdentity: context.sessionId,
            DurationSeconds: durationSeconds,
            Tags: tags,
            ...(grant.sessionPolicy ? { Policy: JSON.stringify(grant.sessionPolicy) } : {}),
            ...(grant.policyArns ? { PolicyArns: grant.policyArns.map((arn) => ({ arn })) } : {}),
          }),
        );
        const credentials = answer.Credentials;
        if (
          !credentials?.AccessKeyId ||
          !credentials.SecretAccessKey ||
          !credentials.SessionToken ||
          !credentials.Expiration
        ) {
          throw Object.assign(new Error("AssumeRole answered without credentials"), {
            name: "InvalidResponse",
          });
        }
        return {
          secret: {
            AccessKeyId: credentials.AccessKeyId,
            SecretAccessKey: credentials.SecretAccessKey,
            SessionToken: credentials.SessionToken,
          },
          expiresAt: credentials.Expiration.getTime(),
          reference: {
            roleArn: grant.roleArn,
            accessKeyId: credentials.AccessKeyId,
            assumedRoleId: answer.AssumedRoleUser?.AssumedRoleId ?? "",
            arn: answer.AssumedRoleUser?.Arn ?? "",
            sourceIdentity: answer.SourceIdentity ?? context.sessionId,
          },
        };
      } catch (error) {
        throw mapAwsError(error, grant.roleArn);
      }
    },
    async revoke(context) {
      const roleArn = String(context.reference.roleArn ?? "");
      const result = await deps.policies.revoke(
        roleNameOf(roleArn),
        context.sessionId,
        context.expiresAt,
        context.issuedAt,
      );
      if (!result.written)
        return { state: "revocation_pending", error: result.error ?? "policy not written", retryable: true };
      return result.fellBack
        ? {
            state: "revoked",
            detail: "role policy budget spent: every credential of this role issued before now is denied",
          }
        : { state: "revoked" };
    },
  };
}
