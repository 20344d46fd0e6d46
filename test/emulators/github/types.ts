import type { OperationId } from "./openapi/operations.js";

export type GithubPermissions = Record<string, "read" | "write" | "admin">;

export interface GithubEmulatorOptions {
  /** The emulator's clock in milliseconds: token expiry and JWT checks follow it. */
  now?: () => number;
  apps?: GithubAppSpec[];
}

export interface GithubRepositorySpec {
  name: string;
  /** Defaults to true: GitHub hides a private repository from a token that cannot see it. */
  private?: boolean;
  id?: number;
}

export interface GithubAppSpec {
  id: number;
  /** Generated in GitHub's `Iv23li…` form when absent. */
  clientId?: string;
  slug: string;
  /** classic: `ghs_` + 36 base62; stateless: `ghs_<appId>_<JWT>`. Default classic. */
  tokenFormat?: "classic" | "stateless";
  installations: {
    id: number;
    account: { login: string; type: "Organization" | "User"; id?: number };
    /** Repositories under account.login: a name (private) or a spec. */
    repositories: (string | GithubRepositorySpec)[];
    repositorySelection?: "all" | "selected";
    /** Granted to the installation. */
    permissions: GithubPermissions;
  }[];
}

export interface GithubAppKeys {
  id: number;
  clientId: string;
  slug: string;
  /** PKCS#8 PEM, generated when the app was added. */
  privateKeyPem: string;
}

export interface IssuedTokenInfo {
  appId: number;
  installationId: number;
  format: "classic" | "stateless";
  repositories: string[];
  permissions: GithubPermissions;
  expiresAt: string;
}

export interface RecordedRequest {
  method: string;
  /** The route's name as failNext takes it, or the request path when no route matched. */
  route: string;
  status: number;
  /** The OpenAPI operation a REST route implements; absent for git and unmatched requests. */
  operationId?: OperationId;
  /** The JSON body sent, when there was one. */
  body?: unknown;
}

export interface GithubEmulator {
  /** "http://127.0.0.1:<port>": the REST API root and the git host. */
  baseUrl: string;
  /** "127.0.0.1:<port>" */
  host: string;
  app(id: number): GithubAppKeys;
  addApp(spec: GithubAppSpec): void;
  tokenState(token: string): "live" | "revoked" | "expired" | "unknown";
  readonly issuedTokens: ReadonlyArray<IssuedTokenInfo>;
  /** Makes the next `times` (default 1) requests to a route fail with `status`, before any other check. */
  failNext(route: string, status: number, times?: number): void;
  readonly requests: ReadonlyArray<RecordedRequest>;
  close(): Promise<void>;
}
