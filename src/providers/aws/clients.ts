import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { Config } from "../../config/schema.js";
import { LatchkeyError } from "../../errors.js";

type AwsConfig = NonNullable<Config["providers"]["aws"]>;

/**
 * The broker's own STS and IAM clients: endpoint and region from config, credentials from the
 * named environment variables or else the SDK's default chain. IAM calls are retried by the
 * revocation writer itself, since the SDK treats IAM's LimitExceeded as throttling and would
 * retry a write that can never fit.
 */
export function createAwsClients(
  config: AwsConfig,
  env: NodeJS.ProcessEnv,
): { sts: STSClient; iam: IAMClient } {
  let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  if (config.credentials) {
    const accessKeyId = env[config.credentials.accessKeyIdEnv];
    const secretAccessKey = env[config.credentials.secretAccessKeyEnv];
    if (!accessKeyId || !secretAccessKey) {
      throw new LatchkeyError(
        "PROVIDER_UNAVAILABLE",
        `providers.aws.credentials names ${config.credentials.accessKeyIdEnv} and ${config.credentials.secretAccessKeyEnv}, which are not both set`,
      );
    }
    credentials = { accessKeyId, secretAccessKey };
  }
  const common = {
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  };
  return {
    sts: new STSClient({ ...common, maxAttempts: config.maxAttempts }),
    iam: new IAMClient({ ...common, maxAttempts: 1 }),
  };
}
