import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { startCli } from "./helpers/cli.js";

// The path a new user takes without a cloud account: `npm run emulators` writes a config, and
// `latchkey serve --config` then serves every example scope in scopes/ against the emulators.
describe("the example scopes against `npm run emulators`", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-examples-"));
  const apiKey = `lk_dev_examples_${Date.now()}`;
  let emulators: ChildProcess;
  let broker: ChildProcess;
  let api: string;
  let endpoints: {
    aws: { endpoint: string; accountId: string };
    github: { baseUrl: string };
    config: string;
  };

  before(async () => {
    // What `npm run emulators` runs, started directly so that stopping it stops the emulators too.
    emulators = spawn(
      process.execPath,
      ["--import", "tsx", "test/emulators/main.ts", "--config-out", join(dir, "config.yaml")],
      {
        env: { ...process.env, LATCHKEY_DEV_KEY: apiKey },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const lines = createInterface({ input: emulators.stdout as NodeJS.ReadableStream })[
      Symbol.asyncIterator
    ]();
    endpoints = JSON.parse(String((await lines.next()).value));
    const started = await startCli(
      ["serve", "--config", endpoints.config],
      /Latchkey API on (http:\/\/127\.0\.0\.1:\d+)/,
      {
        env: { PATH: process.env.PATH ?? "", LATCHKEY_API_PORT: "0", LATCHKEY_METADATA_PORT: "0" },
      },
    );
    broker = started.child;
    api = started.match[1] as string;
  });
  after(async () => {
    for (const child of [broker, emulators]) {
      if (!child) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });

  test("prints the endpoints and the config it wrote", () => {
    assert.match(endpoints.aws.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(endpoints.aws.accountId, "123456789012");
    assert.match(endpoints.github.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(endpoints.config, join(dir, "config.yaml"));
  });

  for (const [scope, providers] of [
    ["deploy-preview", ["aws", "github", "jwt"]],
    ["read-artifacts", ["aws", "github"]],
    ["internal-api", ["jwt"]],
  ] as const) {
    test(`${scope}: every grant is minted, and every credential revoked at the end`, async () => {
      const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
      const sessionId = `example-${scope}`;
      const opened = await fetch(`${api}/v1/sessions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ sessionId, scopes: [scope] }),
      });
      const body = (await opened.json()) as { credentials: { provider: string }[] };
      assert.equal(opened.status, 201, JSON.stringify(body));
      assert.deepEqual(body.credentials.map((c) => c.provider).sort(), [...providers]);
      const ended = await fetch(`${api}/v1/sessions/${sessionId}`, { method: "DELETE", headers });
      const result = (await ended.json()) as { revoked: number; pending: number };
      assert.equal(result.revoked, providers.length);
      assert.equal(result.pending, 0);
    });
  }
});
