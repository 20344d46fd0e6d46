import { readFileSync } from "node:fs";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { resolvePath } from "../../config/load.js";
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
  baseDir: string,
): { sts: STSClient; iam: IAMClient } {
  let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  if (config.credentials && "file" in config.credentials) {
    const path = resolvePath(baseDir, config.credentials.file);
    const parsed = JSON.parse(readFileSync(path, "utf8")) as {
      accessKeyId?: unknown;
      secretAccessKey?: unknown;
    };
    if (typeof parsed.accessKeyId !== "string" || typeof parsed.secretAccessKey !== "string") {
      throw new LatchkeyError("PROVIDER_UNAVAILABLE", `${path} must hold {"accessKeyId", "secretAccessKey"}`);
    }
    credentials = { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
  } else if (config.credentials) {
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
