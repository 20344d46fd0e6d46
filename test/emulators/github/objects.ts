// GitHub's JSON objects (simple-user, repository, full-repository, installation, integration)
// for the emulator's own accounts and repositories. Repository objects start from GitHub's
// published example, since they carry 70+ required fields; every identifying field is replaced.
import {
  type Account,
  type App,
  appPermissions,
  type Installation,
  type Repository,
} from "./installations.js";
import type { ExtractedSchemas } from "./openapi/schemas.js";
import type { GithubPermissions } from "./types.js";

export interface ObjectBuilders {
  repository(repository: Repository): Record<string, unknown>;
  /** `access` is the token's permissions when the caller is authenticated. */
  fullRepository(repository: Repository, access: GithubPermissions | undefined): Record<string, unknown>;
  installation(installation: Installation): Record<string, unknown>;
  integration(app: App): Record<string, unknown>;
}

/** GitHub's legacy global node id: base64 of "0<length of type>:<type><id>". */
function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
}

export function createObjectBuilders(options: {
  baseUrl: string;
  createdAt: string;
  templates: ExtractedSchemas["templates"];
}): ObjectBuilders {
  const { baseUrl: base, createdAt, templates } = options;
  const host = new URL(base).host;

  const simpleUser = (account: Account) => {
    const users = `${base}/users/${account.login}`;
    // GitHub points an organization's own resources at /orgs, the rest at /users.
    const own = account.type === "Organization" ? `${base}/orgs/${account.login}` : users;
    return {
      login: account.login,
      id: account.id,
      node_id: nodeId(account.type, account.id),
      avatar_url: `${base}/avatars/u/${account.id}`,
      gravatar_id: "",
      url: own,
      html_url: `${base}/${account.login}`,
      followers_url: `${users}/followers`,
      following_url: `${users}/following{/other_user}`,
      gists_url: `${users}/gists{/gist_id}`,
      starred_url: `${users}/starred{/owner}{/repo}`,
      subscriptions_url: `${users}/subscriptions`,
      organizations_url: `${users}/orgs`,
      repos_url: `${own}/repos`,
      events_url: account.type === "Organization" ? `${own}/events` : `${users}/events{/privacy}`,
      received_events_url: `${users}/received_events`,
      type: account.type,
      user_view_type: "public",
      site_admin: false,
    };
  };

  const fromTemplate = (template: Record<string, unknown>, repository: Repository) => {
    const fullName = `${repository.owner.login}/${repository.name}`;
    const apiUrl = `${base}/repos/${fullName}`;
    const templateApiUrl = String(template.url);
    // Every *_url of the template hangs off its own API URL; re-rooting them keeps their
    // hypermedia templates ({/sha}, {+path}, ...) exactly as GitHub publishes them.
    const rerooted = Object.fromEntries(
      Object.entries(template).map(([key, value]) => [
        key,
        typeof value === "string" && value.startsWith(templateApiUrl)
          ? apiUrl + value.slice(templateApiUrl.length)
          : value,
      ]),
    );
    const {
      parent: _parent,
      source: _source,
      organization: _organization,
      temp_clone_token: _tempCloneToken,
      permissions: _permissions,
      ...rest
    } = rerooted;
    return {
      ...rest,
      id: repository.id,
      node_id: nodeId("Repository", repository.id),
      name: repository.name,
      full_name: fullName,
      owner: simpleUser(repository.owner),
      private: repository.private,
      visibility: repository.private ? "private" : "public",
      html_url: `${base}/${fullName}`,
      description: null,
      fork: false,
      git_url: `git://${host}/${fullName}.git`,
      ssh_url: `git@${host}:${fullName}.git`,
      clone_url: `${base}/${fullName}.git`,
      svn_url: `${base}/${fullName}`,
      mirror_url: null,
      homepage: null,
      language: null,
      forks_count: 0,
      forks: 0,
      stargazers_count: 0,
      watchers_count: 0,
      watchers: 0,
      size: 0,
      default_branch: "main",
      open_issues_count: 0,
      open_issues: 0,
      is_template: false,
      topics: [],
      archived: false,
      disabled: false,
      pushed_at: createdAt,
      created_at: createdAt,
      updated_at: createdAt,
      template_repository: null,
      license: null,
      ...(repository.owner.type === "Organization" ? { organization: simpleUser(repository.owner) } : {}),
    };
  };

  return {
    repository: (repository) => fromTemplate(templates.repository, repository),
    fullRepository(repository, access) {
      return {
        ...fromTemplate(templates["full-repository"], repository),
        subscribers_count: 0,
        network_count: 0,
        ...(access === undefined
          ? {}
          : {
              permissions: {
                admin: access.administration === "write",
                maintain: false,
                push: access.contents === "write",
                triage: false,
                pull: true,
              },
            }),
      };
    },
    installation(installation) {
      const { account, app } = installation;
      return {
        id: installation.id,
        account: simpleUser(account),
        repository_selection: installation.repositorySelection,
        access_tokens_url: `${base}/app/installations/${installation.id}/access_tokens`,
        repositories_url: `${base}/installation/repositories`,
        html_url:
          account.type === "Organization"
            ? `${base}/organizations/${account.login}/settings/installations/${installation.id}`
            : `${base}/settings/installations/${installation.id}`,
        app_id: app.id,
        client_id: app.clientId,
        app_slug: app.slug,
        target_id: account.id,
        target_type: account.type,
        permissions: installation.permissions,
        events: [],
        created_at: createdAt,
        updated_at: createdAt,
        single_file_name: null,
        has_multiple_single_files: false,
        single_file_paths: [],
        suspended_by: null,
        suspended_at: null,
      };
    },
    integration(app) {
      const owner = app.installations[0]?.account ?? { login: app.slug, type: "User" as const, id: app.id };
      return {
        id: app.id,
        slug: app.slug,
        node_id: nodeId("Integration", app.id),
        client_id: app.clientId,
        owner: simpleUser(owner),
        name: app.slug,
        description: null,
        external_url: `${base}/apps/${app.slug}`,
        html_url: `${base}/apps/${app.slug}`,
        created_at: createdAt,
        updated_at: createdAt,
        permissions: appPermissions(app),
        events: [],
        installations_count: app.installations.length,
      };
    },
  };
}
