import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bearer, type TestBroker } from "./broker.js";

/** Sink roots live on /dev/shm: tmpfs, as in production, and fast enough for thousands of fsyncs. */
export function tmpfsDir(prefix: string): string {
  return mkdtempSync(join("/dev/shm", `latchkey-${prefix}-`));
}

/** A scope of JWT grants only, so sink tests need no emulator; 30 s is the shortest JWT lifetime. */
export const sinkJwtScope = {
  name: "sandbox",
  description: "A sandbox with two JWT grants",
  maxTtlSeconds: 86_400,
  grants: [
    { name: "api", provider: "jwt", audience: "https://api.test.example", ttlSeconds: 30 },
    { name: "deploy", provider: "jwt", audience: "https://deploy.test.example", ttlSeconds: 600 },
  ],
};

export interface OpenedSession {
  sessionId: string;
  agentToken: string;
  credentials: { provider: string; grant: string; secret: Record<string, string> }[];
}

/** Opens a session as orch-a and records every secret the answer holds in `secrets`. */
export async function openSession(
  broker: TestBroker,
  sessionId: string,
  secrets: Set<string>,
  scopes: string[] = ["sandbox"],
  ttlSeconds?: number,
): Promise<OpenedSession> {
  const response = await broker.apps.api.inject({
    method: "POST",
    url: "/v1/sessions",
    headers: bearer(broker.keys.orchA),
    payload: { sessionId, scopes, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) },
  });
  assert.equal(response.statusCode, 201, response.body);
  const body = response.json();
  secrets.add(body.agentToken);
  for (const credential of body.credentials) {
    for (const value of Object.values(credential.secret as Record<string, string>)) secrets.add(value);
  }
  return { sessionId, agentToken: body.agentToken, credentials: body.credentials };
}

export async function endSession(broker: TestBroker, sessionId: string): Promise<void> {
  const response = await broker.apps.api.inject({
    method: "DELETE",
    url: `/v1/sessions/${sessionId}`,
    headers: bearer(broker.keys.orchA),
  });
  assert.equal(response.statusCode, 200, response.body);
}

/** Every regular file under `dir` (links and sockets listed with empty content), by relative path. */
export function readTree(dir: string, prefix = ""): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      for (const [name, content] of readTree(path, relative)) files.set(name, content);
    } else {
      files.set(relative, lstatSync(path).isFile() ? readFileSync(path) : Buffer.alloc(0));
    }
  }
  return files;
}

/** The files under `dir` holding any of `secrets`. */
export function filesHolding(dir: string, secrets: Iterable<string>): string[] {
  const found: string[] = [];
  const wanted = [...secrets];
  for (const [name, content] of readTree(dir)) {
    if (wanted.some((secret) => content.includes(secret))) found.push(name);
  }
  return found;
}

/** No secret in the broker's logs or its audit export. */
export async function assertNoSecretsLogged(broker: TestBroker, secrets: Set<string>): Promise<void> {
  assert.ok(secrets.size > 0);
  const exported = await broker.apps.api.inject({
    method: "GET",
    url: "/v1/audit/export",
    headers: bearer(broker.keys.auditor),
  });
  assert.equal(exported.statusCode, 200);
  const logs = broker.logs.join("");
  for (const secret of secrets) {
    assert.equal(logs.includes(secret), false, "a secret is in the logs");
    assert.equal(exported.body.includes(secret), false, "a secret is in the audit export");
  }
}

/** The `exp` of a JWT, in ms. */
export function jwtExpiry(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
  return payload.exp * 1000;
}

/** The variables a session's `env` file sets, as `docker run --env-file` would read them. */
export function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const equals = line.indexOf("=");
    if (equals > 0) env[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return env;
}

export interface SandboxRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Mounts `sessionDir` read-only at the mount point (/run/latchkey) in a mount namespace of its
 * own, hides the host's /run and /dev/shm (where sink roots live), optionally leaves the
 * network namespace with only a loopback that is down, drops to `uid`:`gid`, and runs
 * `command` with exactly `env`. Extra read-only binds (`also`) put other paths in view.
 */
export function runInSandbox(options: {
  sessionDir: string;
  uid: number;
  gid: number;
  env: Record<string, string>;
  cwd: string;
  command: string[];
  network: boolean;
  input?: string;
  also?: { source: string; target: string }[];
}): Promise<SandboxRun> {
  const binds = (options.also ?? []).flatMap(({ source, target }) => [source, target]);
  const script = `
set -e
dir=$1; uid=$2; gid=$3; binds=$4; shift 4
i=0
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir /run/latchkey
mount --bind "$dir" /run/latchkey
mount -o remount,bind,ro /run/latchkey
while [ "$i" -lt "$binds" ]; do
  touch "$2"; mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"; shift 2; i=$((i + 1))
done
mount -t tmpfs -o mode=0755 tmpfs /dev/shm
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        ...(options.network ? [] : ["--net"]),
        "sh",
        "-c",
        script,
        "sandbox",
        options.sessionDir,
        String(options.uid),
        String(options.gid),
        String(binds.length / 2),
        ...binds,
        ...options.command,
      ],
      // A session of its own: no controlling terminal, so nothing in it can prompt.
      { env: options.env, cwd: options.cwd, detached: true, stdio: ["pipe", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that never reads its input may be gone before it is written.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}
