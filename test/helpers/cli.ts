import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const latchkeyBin = fileURLToPath(new URL("../../src/bin/latchkey.mjs", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `latchkey` command in a child process. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [latchkeyBin, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? { PATH: process.env.PATH ?? "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Starts a long-running verb and resolves once `ready` matches its stderr. */
export function startCli(
  args: string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [latchkeyBin, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let all = "";
    const onData = (d: Buffer) => {
      all += d;
      const match = all.match(ready);
      if (match) resolve({ child, match, output: () => all });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`latchkey ${args.join(" ")} exited ${code}:\n${all}`)));
  });
}
