import { resolve } from "node:path";
import { formatProblem } from "../config/problems.js";
import { loadScopes } from "../scopes/load.js";
import { parseFlags, UsageError } from "./args.js";
import type { Verb } from "./main.js";

const help = `Usage: latchkey scopes check [DIR]

Checks every scope file (*.yaml) in DIR (default: scopes) strictly, and prints every problem
with its file, line and field. Exit code 0 when all are valid, 1 otherwise.
`;

export const scopesVerb: Verb = {
  summary: "Check scope files",
  async run(argv, io) {
    const { flags, positionals } = parseFlags(argv, {}, "scopes");
    const [action, dir, ...extra] = positionals;
    if (flags.help || action === undefined) {
      io.stdout.write(help);
      return flags.help ? 0 : 2;
    }
    if (action !== "check")
      throw new UsageError(`scopes: unknown action ${JSON.stringify(action)}; the only one is check`);
    if (extra.length > 0) throw new UsageError("scopes check takes one directory");
    const path = resolve(io.cwd, dir ?? "scopes");
    const { scopes, problems } = loadScopes(path);
    for (const problem of problems) io.stderr.write(`${formatProblem(problem)}\n`);
    if (problems.length > 0) {
      io.stderr.write(`${problems.length} problem${problems.length === 1 ? "" : "s"} found.\n`);
      return 1;
    }
    io.stdout.write(
      `${scopes.size} scope${scopes.size === 1 ? "" : "s"} valid: ${[...scopes.keys()].join(", ")}\n`,
    );
    return 0;
  },
};
