import { AgentClientError, endpointFromEnv, getFromMetadata } from "../agent/client.js";
import { parseFlags, UsageError } from "./args.js";
import type { Verb } from "./main.js";

const help = `Usage: latchkey credential-process aws <grant> [--socket PATH]

Prints the session's AWS credentials for <grant> in the credential_process format (Version 1),
for an AWS config profile such as:

  [profile sandbox]
  credential_process = latchkey credential-process aws artifacts

Reads LATCHKEY_METADATA_URL and the agent token (LATCHKEY_AGENT_TOKEN_FILE or
LATCHKEY_AGENT_TOKEN), as the session's env file sets them; --socket talks to the session's
Unix socket instead. Errors go to stderr without any secret.
`;

export const credentialProcessVerb: Verb = {
  summary: "AWS credential_process helper",
  async run(argv, io) {
    const { flags, positionals } = parseFlags(argv, { socket: { type: "string" } }, "credential-process");
    if (flags.help) {
      io.stdout.write(help);
      return 0;
    }
    const [provider, grant, ...extra] = positionals;
    if (provider !== "aws" || grant === undefined || extra.length > 0) {
      throw new UsageError(
        "credential-process takes exactly: aws <grant> (see `latchkey credential-process --help`)",
      );
    }
    try {
      const endpoint = endpointFromEnv(io.env, typeof flags.socket === "string" ? flags.socket : undefined);
      const answer = await getFromMetadata(endpoint, `v1/credentials/aws/${encodeURIComponent(grant)}`);
      io.stdout.write(
        `${JSON.stringify({
          Version: 1,
          AccessKeyId: answer.AccessKeyId,
          SecretAccessKey: answer.SecretAccessKey,
          SessionToken: answer.Token,
          Expiration: answer.Expiration,
        })}\n`,
      );
      return 0;
    } catch (error) {
      const message = error instanceof AgentClientError ? error.message : "unexpected failure";
      io.stderr.write(`latchkey credential-process: ${message}\n`);
      return 1;
    }
  },
};
