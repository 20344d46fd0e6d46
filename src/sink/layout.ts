// What a session's directory holds, as text: the one description of the layout, fed by the
// broker's own sink and by the sidecar alike (see DESIGN.md, "Files in the sandbox").

/** One credential as the sink writes it, whichever driver fetched it. */
export type SinkCredential = { grant: string; scope: string; expiresAt: number } & (
  | { provider: "aws"; accessKeyId: string; secretAccessKey: string; sessionToken: string }
  | { provider: "github"; token: string; gitHost: string }
  | { provider: "jwt"; token: string }
);

export interface SessionSnapshot {
  sessionId: string;
  expiresAt: number;
  agentToken: string;
  /** In the session's grant order: the first AWS grant is the `[default]` profile and the container-credentials grant. */
  credentials: readonly SinkCredential[];
}

export interface LayoutOptions {
  /** Where the sandbox sees the directory; every path in `env` and the manifest starts with it. */
  mountPoint: string;
  /** The metadata endpoint as the sandbox reaches it; absent when it has only the Unix socket. */
  metadataUrl: string | undefined;
  /** Whether the directory also holds the session's socket. */
  socket: boolean;
}

export interface LayoutFile {
  /** Relative to the session directory, `/`-separated. */
  path: string;
  content: string;
}

export const SOCKET_NAME = "latchkey.sock";
export const AGENT_TOKEN_FILE = "agent-token";
export const DEFAULT_GIT_HOST = "github.com";

/** The files of a session directory, secrets first and the manifest last, so the manifest never names a file not yet written. */
export function renderLayout(snapshot: SessionSnapshot, options: LayoutOptions): LayoutFile[] {
  const base = options.mountPoint.replace(/\/+$/, "");
  const inSandbox = (path: string) => `${base}/${path}`;
  const aws = snapshot.credentials.filter((c) => c.provider === "aws");
  const github = snapshot.credentials.filter((c) => c.provider === "github");
  const jwt = snapshot.credentials.filter((c) => c.provider === "jwt");
  const files: LayoutFile[] = [{ path: AGENT_TOKEN_FILE, content: snapshot.agentToken }];
  const manifestFiles = new Map<SinkCredential, { files: string[]; profiles?: string[] }>();

  if (aws.length > 0) {
    const profiles = aws.map((credential, index) => {
      // A grant literally named "default" can only be the default profile when it comes first.
      const names = [
        ...(index === 0 ? ["default"] : []),
        ...(credential.grant === "default" ? [] : [credential.grant]),
      ];
      manifestFiles.set(credential, { files: [inSandbox("aws/credentials")], profiles: names });
      return names.map((name) =>
        [
          `[${name}]`,
          `aws_access_key_id = ${credential.accessKeyId}`,
          `aws_secret_access_key = ${credential.secretAccessKey}`,
          `aws_session_token = ${credential.sessionToken}`,
          "",
        ].join("\n"),
      );
    });
    files.push({ path: "aws/credentials", content: profiles.flat().join("\n") });
  }
  for (const credential of github) {
    files.push({ path: `github/${credential.grant}/token`, content: credential.token });
    manifestFiles.set(credential, {
      files: [inSandbox(`github/${credential.grant}/token`), inSandbox("github/git-credentials")],
    });
  }
  if (github.length > 0) {
    // git's credential-store format; git answers a host with the first line that matches it.
    files.push({
      path: "github/git-credentials",
      content: github
        .map((c) => `https://x-access-token:${encodeURIComponent(c.token)}@${c.gitHost}\n`)
        .join(""),
    });
  }
  for (const credential of jwt) {
    files.push({ path: `jwt/${credential.grant}.jwt`, content: credential.token });
    manifestFiles.set(credential, { files: [inSandbox(`jwt/${credential.grant}.jwt`)] });
  }

  const env: [string, string][] = [];
  if (options.metadataUrl !== undefined) env.push(["LATCHKEY_METADATA_URL", options.metadataUrl]);
  env.push(["LATCHKEY_AGENT_TOKEN_FILE", inSandbox(AGENT_TOKEN_FILE)]);
  const [firstAws] = aws;
  if (firstAws) {
    if (options.metadataUrl !== undefined) {
      env.push([
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        `${options.metadataUrl.replace(/\/+$/, "")}/v1/credentials/aws/${firstAws.grant}`,
      ]);
      env.push(["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", inSandbox(AGENT_TOKEN_FILE)]);
    }
    env.push(["AWS_SHARED_CREDENTIALS_FILE", inSandbox("aws/credentials")]);
  }
  if (github.length > 0) {
    // No GH_TOKEN: a variable cannot follow a refresh, a file can.
    env.push(["GIT_CONFIG_COUNT", "1"]);
    env.push(["GIT_CONFIG_KEY_0", "credential.helper"]);
    env.push(["GIT_CONFIG_VALUE_0", `store --file=${inSandbox("github/git-credentials")}`]);
  }
  files.push({ path: "env", content: env.map(([key, value]) => `${key}=${value}\n`).join("") });

  const iso = (ms: number) => new Date(ms).toISOString();
  const manifest = {
    sessionId: snapshot.sessionId,
    expiresAt: iso(snapshot.expiresAt),
    ...(options.metadataUrl === undefined ? {} : { metadataUrl: options.metadataUrl }),
    ...(options.socket ? { socket: inSandbox(SOCKET_NAME) } : {}),
    grants: snapshot.credentials.map((c) => ({
      provider: c.provider,
      grant: c.grant,
      scope: c.scope,
      expiresAt: iso(c.expiresAt),
      ...(c.provider === "github" ? { gitHost: c.gitHost } : {}),
      ...manifestFiles.get(c),
    })),
  };
  files.push({ path: "manifest.json", content: `${JSON.stringify(manifest, null, 2)}\n` });
  return files;
}
