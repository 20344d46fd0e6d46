import { type AwsEmulator, startAwsEmulator } from "../emulators/aws/index.js";

/** Broker config and environment pointing the AWS provider at an emulator. */
export function awsProviderConfig(emulator: AwsEmulator) {
  return {
    config: {
      providers: {
        aws: {
          region: emulator.region,
          endpoint: emulator.endpoint,
          credentials: { accessKeyIdEnv: "BROKER_AWS_KEY_ID", secretAccessKeyEnv: "BROKER_AWS_SECRET" },
        },
      },
    },
    env: {
      BROKER_AWS_KEY_ID: emulator.brokerCredentials.accessKeyId,
      BROKER_AWS_SECRET: emulator.brokerCredentials.secretAccessKey,
    },
  };
}

export const awsScope = (name: string, roleArn: string, extra: Record<string, unknown> = {}) => ({
  name,
  description: `AWS access for ${name}`,
  maxTtlSeconds: 3600,
  grants: [{ name: "artifacts", provider: "aws", roleArn, durationSeconds: 900, ...extra }],
});

export async function startEmulatorWithRoles(...names: string[]): Promise<AwsEmulator> {
  return startAwsEmulator({ roles: names.map((name) => ({ name, maxSessionDurationSeconds: 3600 })) });
}
