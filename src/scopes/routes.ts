import { route } from "../http/route.js";
import { mayUseScope } from "../sessions/client.js";
import type { CompiledScope } from "./load.js";

export function scopeRoutes(deps: { scopes: ReadonlyMap<string, CompiledScope> }) {
  return [
    route({
      method: "GET",
      url: "/v1/scopes",
      summary: "The scopes the calling client may use, with each grant's bounds",
      tag: "scopes",
      auth: ["orchestrator"],
      responses: { 200: "The scopes" },
      async handler({ client }) {
        const scopes = [...deps.scopes.values()]
          .filter((scope) => mayUseScope(client, scope))
          .map((scope) => ({
            name: scope.name,
            description: scope.description,
            maxTtlSeconds: scope.maxTtlSeconds,
            // A grant holds only bounds and names (role ARNs, repositories, audiences), never a secret.
            grants: [...scope.grants.values()],
          }));
        return { scopes };
      },
    }),
  ];
}
