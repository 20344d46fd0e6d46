import type { AwsGrant } from "./aws/grant.js";
import type { GithubGrant } from "./github/grant.js";
import type { GrantOf } from "./grants.js";
import type { JwtGrant } from "./jwt/grant.js";
import type { Provider, ProviderKind } from "./types.js";

/**
 * The one place providers are registered. Every kind must be named (a provider the config does
 * not enable is `undefined`), so adding a kind without deciding how it is registered does not compile.
 */
export interface ProviderRegistry {
  aws: Provider<AwsGrant, unknown> | undefined;
  github: Provider<GithubGrant, unknown> | undefined;
  jwt: Provider<JwtGrant, unknown> | undefined;
}

export function providerFor<K extends ProviderKind>(
  registry: ProviderRegistry,
  kind: K,
): Provider<GrantOf<K>, unknown> | undefined {
  return registry[kind] as Provider<GrantOf<K>, unknown> | undefined;
}
