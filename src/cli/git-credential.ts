import { AgentClientError, endpointFromEnv, getFromMetadata } from "../agent/client.js";
import { parseFlags, UsageError } from "./args.js";
import type { Verb } from "./main.js";

const help = `Usage: latchkey git-credential get|store|erase [--grant NAME] [--socket PATH]

A git credential helper serving the session's GitHub installation tokens:

  git config --global credential.helper '!latchkey git-credential'

For \`get\` it answers with the token of the session's GitHub grant whose git host is the host git
asks about (username x-access-token, the token as password, and its expiry). For a host no grant
serves it answers nothing, so git moves on to its next helper. --grant picks the grant when several
serve the same host; the host must still match. \`store\` and \`erase\` do nothing: the broker owns
the tokens.

Reads LATCHKEY_METADATA_URL and the agent token (LATCHKEY_AGENT_TOKEN_FILE or
LATCHKEY_AGENT_TOKEN), as the session's env file sets them; --socket talks to the session's
Unix socket instead. Errors go to stderr without any secret.
`;

/** Reads git's `key=value` lines up to a blank line or the end of input; `[]` keys are not needed here. */
async function readAttributes(stdin: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const attributes = new Map<string, string>();
  let pending = "";
  const take = (line: string) => {
    const equals = line.indexOf("=");
    if (equals > 0 && !line.slice(0, equals).endsWith("[]"))
      attributes.set(line.slice(0, equals), line.slice(equals + 1));
  };
  for await (const chunk of stdin) {
    pending += String(chunk);
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const raw of lines) {
      const line = raw.replace(/\r$/, "");
      if (line === "") return attributes;
      take(line);
    }
  }
  if (pending !== "") take(pending.replace(/\r$/, ""));
  return attributes;
}

/** `protocol` and `host` as git sent them, or parsed from `url` when only that was given. */
function target(attributes: Map<string, string>): { protocol?: string; host?: string } {
  const url = attributes.get("url");
  let parsed: URL | undefined;
  if (url !== undefined && URL.canParse(url)) parsed = new URL(url);
  const protocol = attributes.get("protocol") ?? parsed?.protocol.replace(/:$/, "");
  const host = attributes.get("host") ?? parsed?.host;
  return { ...(protocol ? { protocol } : {}), ...(host ? { host } : {}) };
}

interface GithubGrant {
  grant: string;
  gitHost: string | undefined;
}

function githubGrants(listing: Record<string, unknown>): GithubGrant[] {
  const grants = Array.isArray(listing.grants) ? (listing.grants as Record<string, unknown>[]) : [];
  return grants
    .filter((g) => g.provider === "github" && typeof g.grant === "string")
    .map((g) => ({
      grant: g.grant as string,
      gitHost: typeof g.gitHost === "string" ? g.gitHost : undefined,
    }));
}

const sameHost = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

export const gitCredentialVerb: Verb = {
  summary: "git credential helper for the session's GitHub grants",
  async run(argv, io) {
    const { flags, positionals } = parseFlags(
      argv,
      { socket: { type: "string" }, grant: { type: "string" } },
      "git-credential",
    );
    if (flags.help) {
      io.stdout.write(help);
      return 0;
    }
    const [operation, ...extra] = positionals;
    if (operation === undefined || extra.length > 0) {
      throw new UsageError(
        "git-credential takes exactly one of get, store, erase (see `latchkey git-credential --help`)",
      );
    }
    const attributes = await readAttributes(io.stdin);
    // git asks helpers to ignore operations they do not know, so newer gits keep working.
    if (operation !== "get") return 0;
    const { protocol, host } = target(attributes);
    // Only web protocols: git also asks helpers for certificate passphrases (protocol=cert).
    if ((protocol !== "https" && protocol !== "http") || host === undefined) return 0;
    const say = (message: string) => io.stderr.write(`latchkey git-credential: ${message}\n`);
    try {
      const endpoint = endpointFromEnv(io.env, typeof flags.socket === "string" ? flags.socket : undefined);
      const grants = githubGrants(await getFromMetadata(endpoint, "v1/credentials"));
      let chosen: GithubGrant | undefined;
      if (typeof flags.grant === "string") {
        const named = flags.grant;
        chosen = grants.find((g) => g.grant === named);
        if (!chosen) {
          say(`this session has no GitHub grant named ${JSON.stringify(named)}`);
          return 1;
        }
        // A token goes only to its own host, whatever URL a repository or redirect leads git to.
        if (!sameHost(chosen.gitHost, host)) {
          say(`grant ${named} serves ${chosen.gitHost ?? "no git host"}, not ${host}; not answering`);
          return 0;
        }
      } else {
        const matching = grants.filter((g) => sameHost(g.gitHost, host));
        if (matching.length > 1) {
          say(
            `several GitHub grants serve ${host} (${matching.map((g) => g.grant).join(", ")}); pick one with --grant`,
          );
          return 0;
        }
        chosen = matching[0];
        if (!chosen) return 0;
      }
      const credential = await getFromMetadata(
        endpoint,
        `v1/credentials/github/${encodeURIComponent(chosen.grant)}`,
      );
      const { token, expiresAt } = credential;
      const expiry = typeof expiresAt === "string" ? Date.parse(expiresAt) : Number.NaN;
      // A value with a line break would inject attributes into git's protocol.
      if (typeof token !== "string" || token === "" || /[\n\r\0]/.test(token) || Number.isNaN(expiry)) {
        say("the metadata endpoint answered without a usable GitHub token");
        return 1;
      }
      io.stdout.write(
        `username=x-access-token\npassword=${token}\npassword_expiry_utc=${Math.floor(expiry / 1000)}\n\n`,
      );
      return 0;
    } catch (error) {
      say(error instanceof AgentClientError ? error.message : "unexpected failure");
      return 1;
    }
  },
};
