import { widening } from "../narrowing.js";
import { type GithubGrant, type GithubNarrow, type PermissionLevel, permissionLevels } from "./grant.js";

const rank = (level: PermissionLevel) => permissionLevels.indexOf(level);

/**
 * A request may keep a subset of the grant's repositories and lower permission levels
 * (read < write < admin). Permissions it leaves out are dropped, so a narrowed token carries only
 * what was asked for.
 */
export function narrowGithubGrant(grant: GithubGrant, request: GithubNarrow): GithubGrant {
  const narrowed: GithubGrant = { ...grant };
  if (request.repositories !== undefined) {
    // GitHub matches repository names case-insensitively; the grant's spelling is what is sent.
    const granted = new Map(grant.repositories.map((name) => [name.toLowerCase(), name]));
    const kept = new Set<string>();
    for (const name of request.repositories) {
      const match = granted.get(name.toLowerCase());
      if (match === undefined) {
        throw widening("narrow.repositories", `${name} is not among the grant's repositories`);
      }
      kept.add(match);
    }
    narrowed.repositories = [...kept];
  }
  if (request.permissions !== undefined) {
    for (const [name, level] of Object.entries(request.permissions)) {
      const allowed = grant.permissions[name];
      if (allowed === undefined) {
        throw widening(`narrow.permissions.${name}`, "the grant does not include this permission");
      }
      if (rank(level) > rank(allowed)) {
        throw widening(`narrow.permissions.${name}`, `the grant allows at most ${allowed}`);
      }
    }
    narrowed.permissions = { ...request.permissions };
  }
  return narrowed;
}
