// A wire-faithful local AWS STS + IAM endpoint for tests and `npm run emulators`; see README.md
// for what is emulated and what is not.
import type { AddressInfo } from "node:net";
import { DEFAULT_PACKED_POLICY_LIMIT } from "./packing.js";
import { createEmulatorServer } from "./server.js";
import { EmulatorState } from "./state.js";
import type { AwsEmulator, AwsEmulatorOptions } from "./types.js";

export type { AwsEmulator, AwsEmulatorOptions, AwsRoleSpec } from "./types.js";

export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const state = new EmulatorState({
    accountId: options.accountId ?? "123456789012",
    region: options.region ?? "us-east-1",
    now: options.now ?? Date.now,
    packedPolicyLimit: options.packedPolicyLimit ?? DEFAULT_PACKED_POLICY_LIMIT,
    policyPropagationDelayMs: options.policyPropagationDelayMs ?? 0,
  });
  for (const provider of options.oidcProviders ?? []) state.addOidcProvider(provider);
  for (const role of options.roles ?? []) state.addRole(role);

  const server = createEmulatorServer(state);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: state.region,
    accountId: state.accountId,
    brokerCredentials: {
      accessKeyId: state.broker.accessKeyId,
      secretAccessKey: state.broker.secretAccessKey,
    },
    brokerArn: state.broker.arn,
    addRole(spec) {
      const role = state.addRole(spec);
      return { arn: role.arn, roleId: role.roleId };
    },
    addOidcProvider(provider) {
      return { arn: state.addOidcProvider(provider).arn };
    },
    getRolePolicy(roleName, policyName) {
      return state.role(roleName)?.inlinePolicies.get(policyName)?.document;
    },
    failNext(action, code, times = 1) {
      state.failNext(action, code, times);
    },
    requests: state.requests,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
    },
  };
}
