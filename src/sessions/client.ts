import type { Role } from "../config/schema.js";
import type { CompiledScope } from "../scopes/load.js";

/** An authenticated caller of the broker API. */
export interface Client {
  id: string;
  role: Role;
  /** Scope names the config lets this client use; `*` means every scope. */
  scopes: ReadonlySet<string>;
}

export function mayManageSessions(client: Client): boolean {
  return client.role === "orchestrator" || client.role === "admin";
}

/** A scope is usable when the config lists it for the client and the scope file does not exclude the client. */
export function mayUseScope(client: Client, scope: CompiledScope): boolean {
  if (!mayManageSessions(client)) return false;
  if (!client.scopes.has("*") && !client.scopes.has(scope.name)) return false;
  return client.role === "admin" || scope.clients === undefined || scope.clients.has(client.id);
}
