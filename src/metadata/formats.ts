import type { ProviderKind } from "../providers/types.js";
import type { CredentialWithSecret } from "../sessions/mint.js";

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What each provider's credential looks like to the agent's tools: the AWS container-credentials
 * JSON the SDKs parse (`Token`, not `SessionToken`), and `{token, expiresAt}` for the others.
 */
export const agentFormats: Record<
  ProviderKind,
  (credential: CredentialWithSecret) => Record<string, unknown>
> = {
  aws: ({ record, secret }) => ({
    AccessKeyId: secret.AccessKeyId,
    SecretAccessKey: secret.SecretAccessKey,
    Token: secret.SessionToken,
    Expiration: iso(record.expiresAt),
    ...(typeof record.reference.roleArn === "string" ? { RoleArn: record.reference.roleArn } : {}),
  }),
  github: ({ record, secret }) => ({ token: secret.token, expiresAt: iso(record.expiresAt) }),
  jwt: ({ record, secret }) => ({ token: secret.token, expiresAt: iso(record.expiresAt) }),
};
