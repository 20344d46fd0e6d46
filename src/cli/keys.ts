import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { generateSigningKeyFile } from "../providers/jwt/keys.js";
import { parseFlags, UsageError } from "./args.js";
import type { Verb } from "./main.js";

const help = `Usage: latchkey keys generate --type signing|encryption [--alg ES256|RS256] --out FILE

Writes a new private key file (mode 0600, refuses to overwrite):
  signing     a private JWK for Latchkey's JWTs (ES256 by default; RS256 for verifiers that need it);
              add it under signing.keys with a notBefore at least 10 minutes ahead, so verifiers
              fetch it from the JWKS before it signs anything.
  encryption  a 256-bit AES key (oct JWK) for sealing secrets at rest; list it first under
              encryption.keys to make it the primary key, keep older keys listed until their
              sealed secrets have expired.
`;

export const keysVerb: Verb = {
  summary: "Generate key files",
  async run(argv, io) {
    const { flags, positionals } = parseFlags(
      argv,
      { type: { type: "string" }, alg: { type: "string" }, out: { type: "string", short: "o" } },
      "keys",
    );
    if (flags.help || positionals[0] === undefined) {
      io.stdout.write(help);
      return flags.help ? 0 : 2;
    }
    if (positionals[0] !== "generate")
      throw new UsageError(
        `keys: unknown action ${JSON.stringify(positionals[0])}; the only one is generate`,
      );
    if (typeof flags.out !== "string") throw new UsageError("keys generate needs --out FILE");
    const alg = flags.alg ?? "ES256";
    if (alg !== "ES256" && alg !== "RS256")
      throw new UsageError("keys generate: --alg must be ES256 or RS256");
    let content: string;
    if (flags.type === "signing") content = await generateSigningKeyFile(alg);
    else if (flags.type === "encryption") {
      content = `${JSON.stringify({ kty: "oct", k: randomBytes(32).toString("base64url"), alg: "A256GCM" }, null, 2)}\n`;
    } else throw new UsageError("keys generate needs --type signing or --type encryption");
    const path = resolve(io.cwd, flags.out);
    try {
      writeFileSync(path, content, { mode: 0o600, flag: "wx" });
    } catch (error) {
      io.stderr.write(
        `latchkey keys: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? error}\n`,
      );
      return 1;
    }
    io.stdout.write(`wrote ${flags.type} key to ${path}\n`);
    return 0;
  },
};
