import { version } from "../version.js";
import { suggest, UsageError } from "./args.js";
import type { CliIo } from "./io.js";

/** A verb of the `latchkey` command: its one-line summary, and what runs it (answering the exit code). */
export interface Verb {
  summary: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

// Each verb lives in its own module and is loaded only when used, so `latchkey --help` or an
// agent-side helper in a sandbox does not pay for loading the whole broker.
const verbs: Record<string, { summary: string; load: () => Promise<Verb> }> = {
  serve: {
    summary: "Run the broker (development mode without --config)",
    load: async () => (await import("./serve.js")).serveVerb,
  },
  scopes: {
    summary: "Check scope files: `latchkey scopes check [DIR]`",
    load: async () => (await import("./scopes.js")).scopesVerb,
  },
  keys: {
    summary: "Generate key files: `latchkey keys generate --type signing|encryption`",
    load: async () => (await import("./keys.js")).keysVerb,
  },
  audit: {
    summary: "Verify an exported audit trail: `latchkey audit verify FILE`",
    load: async () => (await import("./audit.js")).auditVerb,
  },
  "credential-process": {
    summary: "In a sandbox: AWS credential_process output for a grant",
    load: async () => (await import("./credential-process.js")).credentialProcessVerb,
  },
  "git-credential": {
    summary: "In a sandbox: git credential helper for the session's GitHub grants",
    load: async () => (await import("./git-credential.js")).gitCredentialVerb,
  },
  scan: {
    summary: "Scan files, directories or stdin for leaked secrets: `latchkey scan [PATH...|-]`",
    load: async () => {
      const { runScanCommand } = await import("../scanner/cli.js");
      return { summary: "Scan for leaked secrets", run: (argv, io) => runScanCommand(argv, io) };
    },
  },
  sink: {
    summary: "Next to a sandbox: keep a session's files fresh in a directory (sidecar)",
    load: async () => (await import("./sink.js")).sinkVerb,
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(verbs).map((v) => v.length));
  return [
    "Usage: latchkey <verb> [flags]",
    "",
    "Verbs:",
    ...Object.entries(verbs).map(([name, verb]) => `  ${name.padEnd(width)}  ${verb.summary}`),
    "",
    "Every verb takes --help. `latchkey --version` prints the version.",
    "",
  ].join("\n");
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [verbName, ...rest] = argv;
  try {
    if (verbName === undefined || verbName === "--help" || verbName === "-h" || verbName === "help") {
      io.stdout.write(usage());
      return verbName === undefined ? 2 : 0;
    }
    if (verbName === "--version" || verbName === "-v") {
      io.stdout.write(`${version}\n`);
      return 0;
    }
    const entry = verbs[verbName];
    if (!entry) {
      const hint = suggest(verbName, Object.keys(verbs));
      throw new UsageError(
        `unknown verb ${JSON.stringify(verbName)}${hint ? `; did you mean ${hint}?` : ""} (see \`latchkey --help\`)`,
      );
    }
    return await (await entry.load()).run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`latchkey: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
