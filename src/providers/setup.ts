import type { Clock } from "../clock.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../logging.js";
import type { Store } from "../store/types.js";
import { createAwsClients } from "./aws/clients.js";
import { createRevocationPolicyWriter } from "./aws/policy-writer.js";
import { createAwsProvider } from "./aws/provider.js";
import { createGithubProvider } from "./github/provider.js";
import type { JwtGrant } from "./jwt/grant.js";
import type { ProviderRegistry } from "./registry.js";
import type { Provider } from "./types.js";

export interface ProviderSetupDeps {
  config: Config;
  baseDir: string;
  clock: Clock;
  store: Store;
  logger: Logger;
  jwt: Provider<JwtGrant, unknown>;
  env: NodeJS.ProcessEnv;
}

/** Builds the registry: every provider the config enables, `undefined` for the others. */
export function createProviders(deps: ProviderSetupDeps): ProviderRegistry {
  const aws = deps.config.providers.aws;
  let awsProvider: ProviderRegistry["aws"];
  if (aws) {
    const { sts, iam } = createAwsClients(aws, deps.env, deps.baseDir);
    const policies = createRevocationPolicyWriter({
      iam,
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
    });
    awsProvider = createAwsProvider({ sts, policies, clock: deps.clock });
  }
  const github = deps.config.providers.github;
  return {
    jwt: deps.jwt,
    aws: awsProvider,
    github: github
      ? createGithubProvider({ apps: github.apps, baseDir: deps.baseDir, logger: deps.logger })
      : undefined,
  };
}
