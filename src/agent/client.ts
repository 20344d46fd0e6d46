import { readFileSync } from "node:fs";
import { request } from "node:http";

// The agent side: what runs inside the sandbox (credential_process, the git credential helper,
// the sidecar). It reads the metadata endpoint's URL and the agent token the way the sandbox's
// `env` file sets them, and never prints a secret except as the protocol's own answer on stdout.

export class AgentClientError extends Error {
  override readonly name = "AgentClientError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface AgentEndpoint {
  /** Base URL of the metadata endpoint (ignored for the host part when a socket is used). */
  url: string;
  token: string;
  /** A Unix socket of the session's own (network-less sandboxes). */
  socketPath?: string;
}

/** Where to reach the metadata endpoint, from the variables the sandbox's `env` file sets. */
export function endpointFromEnv(env: NodeJS.ProcessEnv, socketPath?: string): AgentEndpoint {
  const url = env.LATCHKEY_METADATA_URL ?? (socketPath ? "http://localhost" : undefined);
  if (!url)
    throw new AgentClientError("LATCHKEY_METADATA_URL is not set (source the session's env file)", "CONFIG");
  let token = env.LATCHKEY_AGENT_TOKEN;
  const file = env.LATCHKEY_AGENT_TOKEN_FILE;
  if (file) {
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (error) {
      throw new AgentClientError(
        `cannot read LATCHKEY_AGENT_TOKEN_FILE (${(error as NodeJS.ErrnoException).code})`,
        "CONFIG",
      );
    }
  }
  if (!token)
    throw new AgentClientError("neither LATCHKEY_AGENT_TOKEN_FILE nor LATCHKEY_AGENT_TOKEN is set", "CONFIG");
  return { url, token, ...(socketPath ? { socketPath } : {}) };
}

/** GET a metadata path; answers the parsed JSON, or throws with the problem's code and detail. */
export function getFromMetadata(
  endpoint: AgentEndpoint,
  path: string,
  timeoutMs = 5000,
): Promise<Record<string, unknown>> {
  const target = new URL(path, endpoint.url.endsWith("/") ? endpoint.url : `${endpoint.url}/`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...(endpoint.socketPath
          ? { socketPath: endpoint.socketPath }
          : { host: target.hostname, port: target.port || 80 }),
        path: `${target.pathname}${target.search}`,
        method: "GET",
        headers: { authorization: endpoint.token, accept: "application/json" },
        timeout: timeoutMs,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(body) as Record<string, unknown>;
          } catch {
            reject(
              new AgentClientError(
                `metadata endpoint answered ${response.statusCode} with a body that is not JSON`,
                "PROTOCOL",
              ),
            );
            return;
          }
          if (response.statusCode === 200) resolve(parsed);
          else {
            const code = typeof parsed.code === "string" ? parsed.code : `HTTP_${response.statusCode}`;
            const detail = typeof parsed.detail === "string" ? parsed.detail : "request refused";
            reject(new AgentClientError(`${code}: ${detail}`, code));
          }
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(new AgentClientError("metadata endpoint did not answer in time", "TIMEOUT")),
    );
    req.on("error", (error) =>
      reject(
        error instanceof AgentClientError
          ? error
          : new AgentClientError(
              `cannot reach the metadata endpoint (${(error as NodeJS.ErrnoException).code ?? error.message})`,
              "UNREACHABLE",
            ),
      ),
    );
    req.end();
  });
}
