// Everything the emulated GitHub knows: accounts, their repositories, apps with their keys, and
// the installations that join them. Names are matched case-insensitively, as GitHub does.
import { createPublicKey, type KeyObject, randomInt } from "node:crypto";
import { base62 } from "./tokens.js";
import type { GithubAppSpec, GithubPermissions, GithubRepositorySpec } from "./types.js";

export interface Account {
  login: string;
  type: "Organization" | "User";
  id: number;
}

export interface Repository {
  id: number;
  name: string;
  owner: Account;
  private: boolean;
}

export interface App {
  id: number;
  clientId: string;
  slug: string;
  tokenFormat: "classic" | "stateless";
  privateKeyPem: string;
  publicKey: KeyObject;
  installations: Installation[];
}

export interface Installation {
  id: number;
  app: App;
  account: Account;
  repositorySelection: "all" | "selected";
  /** The selected repositories; with `all`, every repository of the account counts instead. */
  selected: Repository[];
  permissions: GithubPermissions;
}

export interface Registry {
  /** Registers an app; `privateKeyPem` is its freshly generated PKCS#8 key. */
  addApp(spec: GithubAppSpec, privateKeyPem: string): App;
  app(id: number): App | undefined;
  appByClientId(clientId: string): App | undefined;
  account(login: string): Account | undefined;
  repository(owner: string, name: string): Repository | undefined;
  repositories(): Repository[];
  /** The repositories an installation can reach now. */
  reachable(installation: Installation): Repository[];
}

// Identifiers start well above zero so they never collide with GitHub's example objects.
const firstAccountId = 100_001;
const firstRepositoryId = 700_001;

export function createRegistry(): Registry {
  const apps = new Map<number, App>();
  const accounts = new Map<string, Account>();
  const repositories = new Map<string, Repository>();
  const installations = new Set<number>();

  const key = (...parts: string[]) => parts.join("/").toLowerCase();
  /** The given id, refused when taken, or the next free one from `first`. */
  const idFor = (given: number | undefined, taken: Iterable<{ id: number }>, first: number, what: string) => {
    const used = new Set([...taken].map((t) => t.id));
    if (given !== undefined && used.has(given)) throw new TypeError(`${what} id ${given} is already taken`);
    let id = given ?? first;
    while (used.has(id)) id += 1;
    return id;
  };

  const ensureAccount = (spec: GithubAppSpec["installations"][number]["account"]): Account => {
    const known = accounts.get(key(spec.login));
    if (known === undefined) {
      const id = idFor(spec.id, accounts.values(), firstAccountId, "account");
      const account = { login: spec.login, type: spec.type, id };
      accounts.set(key(spec.login), account);
      return account;
    }
    if (known.type !== spec.type || (spec.id !== undefined && spec.id !== known.id)) {
      throw new TypeError(`account ${spec.login} is declared twice with different types or ids`);
    }
    return known;
  };

  const ensureRepository = (owner: Account, spec: string | GithubRepositorySpec): Repository => {
    const { name, private: isPrivate = true, id } = typeof spec === "string" ? { name: spec } : spec;
    const known = repositories.get(key(owner.login, name));
    if (known === undefined) {
      const repository = {
        id: idFor(id, repositories.values(), firstRepositoryId, "repository"),
        name,
        owner,
        private: isPrivate,
      };
      repositories.set(key(owner.login, name), repository);
      return repository;
    }
    if (typeof spec !== "string" && (known.private !== isPrivate || (id !== undefined && id !== known.id))) {
      throw new TypeError(`repository ${owner.login}/${name} is declared twice with different fields`);
    }
    return known;
  };

  return {
    addApp(spec, privateKeyPem) {
      if (apps.has(spec.id)) throw new TypeError(`app ${spec.id} already exists`);
      const clientId = spec.clientId ?? `Iv23li${base62(14, randomInt)}`;
      if ([...apps.values()].some((a) => a.clientId === clientId)) {
        throw new TypeError(`client id ${clientId} already exists`);
      }
      for (const installation of spec.installations) {
        if (installations.has(installation.id)) {
          throw new TypeError(`installation ${installation.id} already exists`);
        }
      }
      const app: App = {
        id: spec.id,
        clientId,
        slug: spec.slug,
        tokenFormat: spec.tokenFormat ?? "classic",
        privateKeyPem,
        publicKey: createPublicKey(privateKeyPem),
        installations: [],
      };
      for (const installation of spec.installations) {
        const account = ensureAccount(installation.account);
        app.installations.push({
          id: installation.id,
          app,
          account,
          repositorySelection: installation.repositorySelection ?? "selected",
          selected: installation.repositories.map((r) => ensureRepository(account, r)),
          permissions: { ...installation.permissions },
        });
        installations.add(installation.id);
      }
      apps.set(app.id, app);
      return app;
    },
    app: (id) => apps.get(id),
    appByClientId: (clientId) => [...apps.values()].find((a) => a.clientId === clientId),
    account: (login) => accounts.get(key(login)),
    repository: (owner, name) => repositories.get(key(owner, name)),
    repositories: () => [...repositories.values()],
    reachable(installation) {
      if (installation.repositorySelection === "selected") return installation.selected;
      return [...repositories.values()].filter((r) => r.owner === installation.account);
    },
  };
}

const rank = { read: 1, write: 2, admin: 3 } as const;

/** Whether `granted` covers `requested` (read < write < admin). */
export function covers(
  granted: GithubPermissions[string] | undefined,
  requested: GithubPermissions[string],
): boolean {
  return granted !== undefined && rank[granted] >= rank[requested];
}

/** An app holds at least what any of its installations was granted. */
export function appPermissions(app: App): GithubPermissions {
  const merged: GithubPermissions = {};
  for (const { permissions } of app.installations) {
    for (const [name, level] of Object.entries(permissions)) {
      if (!covers(merged[name], level)) merged[name] = level;
    }
  }
  return merged;
}
