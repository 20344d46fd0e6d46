import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli, startCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "latchkey-cli-"));

describe("latchkey command", () => {
  const usageRows: { args: string[]; code: number; stream: "stdout" | "stderr"; pattern: RegExp }[] = [
    { args: ["--version"], code: 0, stream: "stdout", pattern: /^\d+\.\d+\.\d+\n$/ },
    { args: ["--help"], code: 0, stream: "stdout", pattern: /Usage: latchkey <verb>/ },
    { args: [], code: 2, stream: "stdout", pattern: /Usage: latchkey <verb>/ },
    { args: ["serv"], code: 2, stream: "stderr", pattern: /unknown verb "serv"; did you mean serve\?/ },
    {
      args: ["frobnicate"],
      code: 2,
      stream: "stderr",
      pattern: /unknown verb "frobnicate" \(see `latchkey --help`\)/,
    },
    {
      args: ["serve", "--conifg", "x"],
      code: 2,
      stream: "stderr",
      pattern: /unknown flag --conifg; did you mean --config\?/,
    },
    {
      args: ["serve", "config.yaml"],
      code: 2,
      stream: "stderr",
      pattern: /did you mean --config config\.yaml\?/,
    },
    { args: ["scopes", "lint"], code: 2, stream: "stderr", pattern: /unknown action "lint"/ },
    {
      args: ["keys", "generate", "--type", "signing"],
      code: 2,
      stream: "stderr",
      pattern: /needs --out FILE/,
    },
    { args: ["audit", "verify"], code: 2, stream: "stderr", pattern: /needs a FILE/ },
  ];
  for (const verb of ["serve", "scopes", "keys", "audit"]) {
    usageRows.push({
      args: [verb, "--help"],
      code: 0,
      stream: "stdout",
      pattern: new RegExp(`Usage: latchkey ${verb}`),
    });
  }
  for (const row of usageRows) {
    test(`latchkey ${row.args.join(" ")} → exit ${row.code}`, async () => {
      const result = await runCli(row.args);
      assert.equal(result.code, row.code, result.stderr);
      assert.match(result[row.stream], row.pattern);
    });
  }

  test("scopes check accepts the shipped examples", async () => {
    const result = await runCli(["scopes", "check", "scopes"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /3 scopes valid: deploy-preview, internal-api, read-artifacts/);
  });

  test("scopes check reports every problem with file, line and field, and exits 1", async () => {
    const dir = mkdtempSync(join(tmp, "scopes-"));
    writeFileSync(
      join(dir, "broken.yaml"),
      [
        "name: broken",
        "description: x",
        "maxTtlSeconds: 30",
        "grants:",
        "  - name: api",
        "    provider: jwt",
        "    audience: https://a.example",
        "    lifetime: 5",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "dup.yaml"),
      "name: dup\ndescription: d\nmaxTtlSeconds: 600\ngrants:\n  - {name: a, provider: jwt, audience: 'https://a.example'}\n",
    );
    writeFileSync(
      join(dir, "dup2.yaml"),
      "name: dup\ndescription: d\nmaxTtlSeconds: 600\ngrants:\n  - {name: a, provider: jwt, audience: 'https://a.example'}\n",
    );
    const result = await runCli(["scopes", "check", dir]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /broken\.yaml:3: maxTtlSeconds: Too small.*\(fix: use a whole number of seconds between 60 and 86400\)/,
    );
    assert.match(result.stderr, /broken\.yaml:8: grants\[0\]\.lifetime: unknown field "lifetime"/);
    assert.match(result.stderr, /dup2\.yaml:1: name: scope name "dup" is already used by .*dup\.yaml/);
    assert.match(result.stderr, /3 problems found\./);
  });

  test("keys generate writes private key files with mode 0600 and never overwrites", async () => {
    for (const [type, check] of [
      [
        "signing",
        (k: Record<string, string>) =>
          k.kty === "EC" && k.crv === "P-256" && Boolean(k.d) && k.alg === "ES256",
      ],
      [
        "encryption",
        (k: Record<string, string>) => k.kty === "oct" && Buffer.from(k.k ?? "", "base64url").length === 32,
      ],
    ] as const) {
      const out = join(tmp, `${type}.jwk`);
      const result = await runCli(["keys", "generate", "--type", type, "--out", out]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(check(JSON.parse(readFileSync(out, "utf8"))));
      assert.equal(statSync(out).mode & 0o777, 0o600);
      assert.equal(
        result.stdout.includes(JSON.parse(readFileSync(out, "utf8")).d ?? "no-d"),
        false,
        "the key is not printed",
      );
      const again = await runCli(["keys", "generate", "--type", type, "--out", out]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /EEXIST/);
    }
    const rsa = await runCli([
      "keys",
      "generate",
      "--type",
      "signing",
      "--alg",
      "RS256",
      "--out",
      join(tmp, "rsa.jwk"),
    ]);
    assert.equal(rsa.code, 0);
    assert.equal(JSON.parse(readFileSync(join(tmp, "rsa.jwk"), "utf8")).kty, "RSA");
  });

  test("serve with a broken config explains every problem and exits 1", async () => {
    const config = join(tmp, "broken-config.yaml");
    writeFileSync(config, "listen:\n  api:\n    port: -1\nstore:\n  kind: postgres\n");
    const result = await runCli(["serve", "--config", config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /broken-config\.yaml:3: listen\.api\.port: Too small/);
    assert.match(result.stderr, /broken-config\.yaml:5: store\.kind: /);
  });

  test("serve with a config that names an unreachable Redis fails fast and says where", async () => {
    const dir = mkdtempSync(join(tmp, "redis-"));
    for (const type of ["signing", "encryption"]) {
      assert.equal(
        (await runCli(["keys", "generate", "--type", type, "--out", join(dir, `${type}.jwk`)])).code,
        0,
      );
    }
    mkdirSync(join(dir, "scopes"));
    copyFileSync(
      join(process.cwd(), "scopes", "internal-api.yaml"),
      join(dir, "scopes", "internal-api.yaml"),
    );
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      `store: {kind: redis, url: "redis://:hunter2@127.0.0.1:1"}\nencryption: {keys: [{id: k1, file: encryption.jwk}]}\nsigning: {keys: [{file: signing.jwk}]}\n`,
    );
    const result = await runCli(["serve", "--config", config]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    assert.equal(result.stderr.includes("hunter2"), false, "the password is never printed");
  });

  test("serve refuses a scope whose GitHub grant names an app the config lacks", async () => {
    const dir = mkdtempSync(join(tmp, "apps-"));
    mkdirSync(join(dir, "scopes"));
    copyFileSync(
      join(process.cwd(), "scopes", "read-artifacts.yaml"),
      join(dir, "scopes", "read-artifacts.yaml"),
    );
    writeFileSync(
      join(dir, "config.yaml"),
      "providers:\n  aws: {}\n  github:\n    apps:\n      other: {appId: 1, privateKeyFile: none.pem}\nencryption: {keys: [{id: k1, file: e.jwk}]}\nsigning: {keys: [{file: s.jwk}]}\n",
    );
    const result = await runCli(["serve", "--config", join(dir, "config.yaml")]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /read-artifacts\.yaml: grants\.source\.app: no GitHub app named "main" is configured \(fix: add it under providers\.github\.apps \(configured: other\)\)/,
    );
  });

  test("development mode serves /healthz with no config, printing the generated key once", async () => {
    const started = Date.now();
    const server = await startCli(["serve"], /Latchkey API on (http:\/\/127\.0\.0\.1:\d+)/, {
      env: { PATH: process.env.PATH ?? "", LATCHKEY_API_PORT: "0", LATCHKEY_METADATA_PORT: "0" },
    });
    try {
      const health = await fetch(`${server.match[1]}/healthz`);
      assert.equal(health.status, 200);
      assert.ok(Date.now() - started < 10_000, "serving within 10 s");
      const output = server.output();
      const key = /Development API key \(shown once, all roles\): (lk_dev_\S+)/.exec(output)?.[1];
      assert.ok(key, output);
      assert.equal(output.split(key).length - 1, 1, "the key appears exactly once");
      assert.match(output, /DEVELOPMENT MODE/);
      const scopes = await fetch(`${server.match[1]}/v1/scopes`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.deepEqual(
        ((await scopes.json()) as { scopes: { name: string }[] }).scopes.map((s) => s.name),
        ["internal-api"],
      );
    } finally {
      const exited = new Promise((resolve) => server.child.on("exit", resolve));
      server.child.kill("SIGTERM");
      assert.equal(await exited, 0, "a SIGTERM shuts down cleanly");
    }
  });
});
