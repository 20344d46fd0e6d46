/** The REST operations the emulator serves, as GitHub's OpenAPI description names them. */
export const servedOperations = [
  { operationId: "apps/get-authenticated", method: "GET", path: "/app" },
  { operationId: "apps/get-installation", method: "GET", path: "/app/installations/{installation_id}" },
  {
    operationId: "apps/create-installation-access-token",
    method: "POST",
    path: "/app/installations/{installation_id}/access_tokens",
  },
  { operationId: "apps/revoke-installation-access-token", method: "DELETE", path: "/installation/token" },
  { operationId: "apps/get-repo-installation", method: "GET", path: "/repos/{owner}/{repo}/installation" },
  { operationId: "apps/get-user-installation", method: "GET", path: "/users/{username}/installation" },
  { operationId: "apps/get-org-installation", method: "GET", path: "/orgs/{org}/installation" },
  { operationId: "repos/get", method: "GET", path: "/repos/{owner}/{repo}" },
] as const;

export type OperationId = (typeof servedOperations)[number]["operationId"];
