import { describeStartupError, startServer } from "../server.js";
import { parseFlags } from "./args.js";
import type { Verb } from "./main.js";

const help = `Usage: latchkey serve [--config FILE]

Runs the broker: the API listener (default 127.0.0.1:8080) and the agent metadata listener
(default 127.0.0.1:8181). Without --config it runs in development mode: in-memory store,
generated keys, scopes/ from the working directory, and the API key from LATCHKEY_DEV_KEY
(or a generated one, printed once). LATCHKEY_* variables override config fields (see README).
`;

export const serveVerb: Verb = {
  summary: "Run the broker",
  async run(argv, io) {
    const { flags, positionals } = parseFlags(argv, { config: { type: "string", short: "c" } }, "serve");
    if (flags.help) {
      io.stdout.write(help);
      return 0;
    }
    if (positionals.length > 0) {
      io.stderr.write(
        `latchkey serve: unexpected argument ${JSON.stringify(positionals[0])} (did you mean --config ${positionals[0]}?)\n`,
      );
      return 2;
    }
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        ...(typeof flags.config === "string" ? { configPath: flags.config } : {}),
        env: io.env,
        cwd: io.cwd,
        notice: (line) => io.stderr.write(`${line}\n`),
        logDestination: io.stdout,
      });
    } catch (error) {
      io.stderr.write(`latchkey serve: cannot start:\n${describeStartupError(error)}\n`);
      return 1;
    }
    io.stderr.write(`Latchkey API on ${server.apiUrl}, metadata endpoint on ${server.metadataUrl}\n`);
    await io.stopSignal;
    await server.close();
    return 0;
  },
};
