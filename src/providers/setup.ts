import type { Clock } from "../clock.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../logging.js";
import type { Store } from "../store/types.js";
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
}

/** Builds the registry: every provider the config enables, `undefined` for the others. */
export function createProviders(deps: ProviderSetupDeps): ProviderRegistry {
  return {
    jwt: deps.jwt,
    aws: undefined,
    github: undefined,
  };
}
