// Git's smart HTTP protocol, served by Debian's own `git http-backend` (CGI) over bare
// repositories kept in a temp dir, so clients talk to a real git server rather than a replay.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { devNull, tmpdir } from "node:os";
import { join } from "node:path";
import type { Repository } from "./installations.js";

export interface GitRepositories {
  /** The temp dir holding the bare repositories; removed by close(). */
  readonly root: string;
  /** Creates the repository's bare copy with its one commit on `main`, once. */
  ensure(repository: Repository): Promise<void>;
  /** Answers one smart-HTTP request (`info/refs` or `git-upload-pack`) and resolves with its status. */
  serve(request: GitRequest): Promise<number>;
  close(): Promise<void>;
}

export interface GitRequest {
  req: IncomingMessage;
  res: ServerResponse;
  repository: Repository;
  /** The path after `<owner>/<repo>.git/`. */
  service: "info/refs" | "git-upload-pack";
  remoteUser: string | undefined;
  /** Headers GitHub adds to every answer. */
  headers: Record<string, string>;
}

// A fixed author and date make every emulator produce the same commit for the same repository.
const author = { name: "Latchkey Emulator", email: "emulator@latchkey.invalid", date: "1767225600 +0000" };

export async function createGitRepositories(): Promise<GitRepositories> {
  const root = await mkdtemp(join(tmpdir(), "latchkey-github-git-"));
  // Isolated from the machine's and the user's git configuration (signing, hooks, templates).
  const baseEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: devNull,
  };
  const created = new Map<number, Promise<void>>();
  const running = new Set<ChildProcess>();

  const git = (args: string[], options: { env?: Record<string, string>; input?: string } = {}) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn("git", args, { env: { ...baseEnv, ...options.env } });
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        err += chunk;
      });
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0
          ? resolve(out.trim())
          : reject(new Error(`git ${args[0]} failed (${code}): ${err.trim()}`)),
      );
      // Commands that take no input may exit before stdin closes; their exit code tells the outcome.
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.input);
    });

  const directory = (repository: Repository) => join(root, repository.owner.login, `${repository.name}.git`);

  const create = async (repository: Repository) => {
    const dir = directory(repository);
    await mkdir(dir, { recursive: true });
    await git(["init", "--quiet", "--bare", "--initial-branch=main", dir]);
    const env = {
      GIT_DIR: dir,
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: author.date,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
      GIT_COMMITTER_DATE: author.date,
    };
    const readme = `# ${repository.name}\n\nServed by Latchkey's GitHub emulator.\n`;
    const blob = await git(["hash-object", "-w", "--stdin"], { env, input: readme });
    const tree = await git(["mktree"], { env, input: `100644 blob ${blob}\tREADME.md\n` });
    const commit = await git(["commit-tree", tree, "-m", "Initial commit"], { env });
    await git(["update-ref", "refs/heads/main", commit], { env });
  };

  const ensure = (repository: Repository) => {
    let creation = created.get(repository.id);
    if (creation === undefined) {
      creation = create(repository);
      // Callers that do not wait (addApp) must not crash the process; the next git request for
      // this repository awaits the same promise and answers 500 with the cause.
      creation.catch(() => undefined);
      created.set(repository.id, creation);
    }
    return creation;
  };

  return {
    root,
    ensure,

    async serve({ req, res, repository, service, remoteUser, headers }) {
      await ensure(repository);
      const url = new URL(req.url ?? "/", "http://emulator");
      const env: Record<string, string> = {
        ...baseEnv,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        GATEWAY_INTERFACE: "CGI/1.1",
        SERVER_PROTOCOL: "HTTP/1.1",
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: `/${repository.owner.login}/${repository.name}.git/${service}`,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
        ...(remoteUser === undefined ? {} : { REMOTE_USER: remoteUser, AUTH_TYPE: "Basic" }),
      };
      // CGI passes request headers as HTTP_*; Git-Protocol (v2) and Content-Encoding (gzip) matter.
      // The credential stays out of the child's environment, as web servers keep it out too.
      for (const [name, value] of Object.entries(req.headers)) {
        if (name === "authorization" || value === undefined) continue;
        env[`HTTP_${name.toUpperCase().replaceAll("-", "_")}`] = Array.isArray(value)
          ? value.join(", ")
          : value;
      }
      if (req.headers["content-length"] !== undefined) env.CONTENT_LENGTH = req.headers["content-length"];

      const child = spawn("git", ["http-backend"], { env });
      running.add(child);
      // http-backend may answer and exit before reading the whole body; its answer still stands.
      child.stdin.on("error", () => undefined);
      req.pipe(child.stdin);
      return await new Promise<number>((resolve, reject) => {
        let head = Buffer.alloc(0);
        let status = 0;
        child.on("error", reject);
        child.stdout.on("data", (chunk: Buffer) => {
          if (status !== 0) {
            res.write(chunk);
            return;
          }
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf("\r\n\r\n");
          if (end === -1) return;
          const cgi = parseCgiHeaders(head.subarray(0, end).toString("latin1"));
          status = cgi.status;
          res.writeHead(status, { ...cgi.headers, ...headers });
          res.write(head.subarray(end + 4));
        });
        child.on("close", (code) => {
          running.delete(child);
          if (status === 0) {
            reject(new Error(`git http-backend exited with ${code} before answering`));
            return;
          }
          res.end();
          resolve(status);
        });
      });
    },

    async close() {
      for (const child of running) child.kill();
      await Promise.allSettled(created.values());
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A CGI header block: `Status: 404 Not Found` sets the status; the other lines are headers. */
function parseCgiHeaders(block: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of block.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
    else headers[name] = value;
  }
  return { status, headers };
}
