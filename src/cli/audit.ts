import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { verifyChain } from "../audit/chain.js";
import type { AuditEvent } from "../audit/event.js";
import { parseFlags, UsageError } from "./args.js";
import type { Verb } from "./main.js";

const help = `Usage: latchkey audit verify FILE|-

Re-computes the hash chain of an audit export (NDJSON, as written by GET /v1/audit/export or the
audit mirror file) from its first event, and reports the first event where it breaks.
Exit code 0 when the chain is intact, 1 when it is broken, 2 on a usage error.
`;

async function* readEvents(input: NodeJS.ReadableStream): AsyncGenerator<AuditEvent> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim() === "") continue;
    try {
      yield JSON.parse(text) as AuditEvent;
    } catch {
      throw new Error(`line ${line} is not JSON`);
    }
  }
}

export const auditVerb: Verb = {
  summary: "Verify an audit export",
  async run(argv, io) {
    const { flags, positionals } = parseFlags(argv, {}, "audit");
    const [action, file] = positionals;
    if (flags.help || action === undefined) {
      io.stdout.write(help);
      return flags.help ? 0 : 2;
    }
    if (action !== "verify")
      throw new UsageError(`audit: unknown action ${JSON.stringify(action)}; the only one is verify`);
    if (file === undefined) throw new UsageError("audit verify needs a FILE (or - for stdin)");
    const input = file === "-" ? io.stdin : createReadStream(resolve(io.cwd, file));
    const events: AuditEvent[] = [];
    try {
      for await (const event of readEvents(input)) events.push(event);
    } catch (error) {
      io.stderr.write(`latchkey audit verify: ${(error as Error).message}\n`);
      return 1;
    }
    const first = events[0];
    // An export may start after genesis (filtered or trimmed); the chain is checked from its first event.
    const result = verifyChain(events, first ? { seq: first.seq - 1, hash: first.prevHash } : undefined);
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return result.ok ? 0 : 1;
  },
};
