import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadConfigFile } from "../src/config/load.js";
import { FileProblemsError, formatProblem } from "../src/config/problems.js";

const dir = mkdtempSync(join(tmpdir(), "latchkey-config-"));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const minimal = `encryption:\n  keys: [{id: k1, file: enc.jwk}]\nsigning:\n  keys: [{file: sig.jwk}]\n`;

function problemsOf(path: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfigFile(path, env);
  } catch (error) {
    assert.ok(error instanceof FileProblemsError, String(error));
    return error.problems.map(formatProblem);
  }
  assert.fail("expected the config to be refused");
}

describe("config loading", () => {
  test("a minimal file gets safe defaults", () => {
    const { config } = loadConfigFile(write("ok.yaml", minimal), {});
    assert.deepEqual(config.listen, {
      api: { host: "127.0.0.1", port: 8080 },
      metadata: { host: "127.0.0.1", port: 8181 },
    });
    assert.deepEqual(config.store, { kind: "memory" });
    assert.equal(config.scopesDir, "scopes");
    assert.equal(config.limits.bodyBytes, 65536);
    assert.equal(config.limits.scanLiveSessions, 10_000);
  });

  test("environment overrides apply over the file, and REDIS_URL selects Redis", () => {
    const { config } = loadConfigFile(write("env.yaml", minimal), {
      LATCHKEY_API_PORT: "9090",
      LATCHKEY_LOG_LEVEL: "warn",
      REDIS_URL: "redis://127.0.0.1:6379/2",
    });
    assert.equal(config.listen.api.port, 9090);
    assert.equal(config.logLevel, "warn");
    assert.deepEqual(config.store, { kind: "redis", url: "redis://127.0.0.1:6379/2" });
  });

  const rows: { name: string; text: string; env?: NodeJS.ProcessEnv; expect: RegExp[] }[] = [
    {
      name: "unknown field, with its line",
      text: `${minimal}listen:\n  api:\n    prot: 80\n`,
      expect: [/bad-1\.yaml:7: listen\.api\.prot: unknown field "prot" \(fix: remove it/],
    },
    {
      name: "bad store url, with the fix",
      text: `${minimal}store:\n  kind: redis\n  url: http://localhost\n`,
      expect: [
        /bad-2\.yaml:7: store\.url: must start with redis:\/\/ .*\(fix: set store\.url to redis:\/\/host:6379/,
      ],
    },
    {
      name: "client key that is not a digest",
      text: `${minimal}clients:\n  - id: ci\n    role: orchestrator\n    keySha256: plaintext-key\n`,
      expect: [
        /bad-3\.yaml:8: clients\[0\]\.keySha256: must be 64 lower-case hex characters.*fix: store the SHA-256/,
      ],
    },
    {
      name: "every problem at once",
      text: `${minimal}logLevel: loud\nlisten:\n  metadata:\n    port: 99999\n`,
      expect: [/logLevel: Invalid option/, /listen\.metadata\.port: Too big/],
    },
    {
      name: "missing keys",
      text: "logLevel: info\n",
      expect: [
        /encryption: is required \(fix: generate a key with `latchkey keys generate --type encryption/,
        /signing: is required/,
      ],
    },
    {
      name: "YAML syntax error, with its line",
      text: "listen:\n  api: [\n",
      expect: [/bad-6\.yaml:3: /],
    },
    {
      name: "a scan limit of no session",
      text: `${minimal}limits:\n  scanLiveSessions: 0\n`,
      expect: [/bad-7\.yaml:6: limits\.scanLiveSessions: Too small/],
    },
    {
      name: "bad environment override",
      text: minimal,
      env: { LATCHKEY_API_PORT: "eighty" },
      expect: [/environment: LATCHKEY_API_PORT: expected an integer/],
    },
  ];
  rows.forEach((row, i) => {
    test(`refuses: ${row.name}`, () => {
      const problems = problemsOf(write(`bad-${i + 1}.yaml`, row.text), row.env);
      for (const pattern of row.expect) {
        assert.ok(
          problems.some((p) => pattern.test(p)),
          `${pattern} not in:\n${problems.join("\n")}`,
        );
      }
    });
  });

  test("a missing file names the flag to fix", () => {
    assert.match(
      problemsOf(join(dir, "absent.yaml")).join("\n"),
      /absent\.yaml: file not found \(fix: pass an existing file to --config\)/,
    );
  });
});
