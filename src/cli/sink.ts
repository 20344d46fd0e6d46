import { resolve } from "node:path";
import { AgentClientError, endpointFromEnv } from "../agent/client.js";
import { systemClock } from "../clock.js";
import { FileProblemsError, formatProblem } from "../config/problems.js";
import { openSessionDirectory } from "../sink/directory.js";
import { UnsafePathError } from "../sink/files.js";
import { createSidecar } from "../sink/sidecar.js";
import { prepareSinkRoot } from "../sink/tmpfs.js";
import { parseFlags, UsageError } from "./args.js";
import type { Verb } from "./main.js";

const help = `Usage: latchkey sink --session-dir DIR [--mount-point PATH] [--socket PATH]
                    [--uid N] [--gid N] [--poll-seconds N] [--allow-non-tmpfs]

Runs next to a sandbox (a sidecar): writes the session's files into DIR, the same layout as the
broker's own sink (agent-token, env, aws/credentials, github/<grant>/token,
github/git-credentials, jwt/<grant>.jwt, manifest.json), keeps them fresh by polling the metadata
endpoint with the agent token, and once the endpoint answers that the session has ended, wipes
them and exits 0. SIGTERM or SIGINT stop it with exit 0 and the files kept: the session lives on,
and a sidecar started again picks it up.

  --session-dir DIR    where to write; must be on tmpfs (e.g. a Kubernetes emptyDir with medium: Memory)
  --mount-point PATH   where the sandbox sees DIR (default /run/latchkey); the env file uses it
  --socket PATH        reach the metadata endpoint on this Unix socket
  --uid N, --gid N     hand the files to the sandbox's user
  --poll-seconds N     longest wait between two polls (default 15)
  --allow-non-tmpfs    accept a DIR on a disk (development only)

Reads LATCHKEY_METADATA_URL and the agent token (LATCHKEY_AGENT_TOKEN_FILE or
LATCHKEY_AGENT_TOKEN), as the agent-side helpers do. No secret is ever printed.
`;

function integerFlag(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min)
    throw new UsageError(`sink: --${name} takes an integer of at least ${min}, got ${JSON.stringify(value)}`);
  return number;
}

export const sinkVerb: Verb = {
  summary: "Sidecar: keep a session's files fresh in a directory next to the sandbox",
  async run(argv, io) {
    const { flags, positionals } = parseFlags(
      argv,
      {
        "session-dir": { type: "string" },
        "mount-point": { type: "string" },
        socket: { type: "string" },
        uid: { type: "string" },
        gid: { type: "string" },
        "poll-seconds": { type: "string" },
        "allow-non-tmpfs": { type: "boolean" },
      },
      "sink",
    );
    if (flags.help) {
      io.stdout.write(help);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(
        `sink: unexpected argument ${JSON.stringify(positionals[0])} (see \`latchkey sink --help\`)`,
      );
    if (typeof flags["session-dir"] !== "string")
      throw new UsageError("sink: needs --session-dir DIR (see `latchkey sink --help`)");
    const mountPoint = typeof flags["mount-point"] === "string" ? flags["mount-point"] : "/run/latchkey";
    if (!/^\/[^\n\r]*$/.test(mountPoint))
      throw new UsageError("sink: --mount-point must be an absolute path");
    const uid = integerFlag(flags.uid, "uid", 0);
    const gid = integerFlag(flags.gid, "gid", 0);
    const pollSeconds = integerFlag(flags["poll-seconds"], "poll-seconds", 1) ?? 15;
    const socket = typeof flags.socket === "string" ? resolve(io.cwd, flags.socket) : undefined;
    const dir = resolve(io.cwd, flags["session-dir"]);
    const say = (line: string) => io.stderr.write(`latchkey sink: ${line}\n`);

    let endpoint: ReturnType<typeof endpointFromEnv>;
    try {
      endpoint = endpointFromEnv(io.env, socket);
      await prepareSinkRoot(dir, {
        allowNonTmpfs: flags["allow-non-tmpfs"] === true,
        field: "--session-dir",
        override: "--allow-non-tmpfs",
        create: false,
        warn: say,
      });
    } catch (error) {
      if (error instanceof FileProblemsError) say(error.problems.map(formatProblem).join("\n"));
      else if (error instanceof AgentClientError) say(error.message);
      else throw error;
      return 1;
    }
    const sidecar = createSidecar({
      endpoint,
      directory: openSessionDirectory(dir, { owner: { uid, gid }, existing: true }),
      mountPoint,
      // Without a URL of its own the sandbox has only the socket: its env file names no URL.
      metadataUrl: io.env.LATCHKEY_METADATA_URL || undefined,
      clock: systemClock,
      pollMs: pollSeconds * 1000,
    });
    say(`keeping the session's files in ${dir}`);
    const outcome = await sidecar.run(io.stopSignal, (error) => {
      if (error instanceof AgentClientError || error instanceof UnsafePathError)
        say(`${error.message}; retrying`);
      else
        say(
          `could not update the files (${(error as NodeJS.ErrnoException).code ?? "unexpected failure"}); retrying`,
        );
    });
    say(outcome === "ended" ? "the session has ended; its files are wiped" : "stopped; the files are kept");
    return 0;
  },
};
