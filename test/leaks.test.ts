import assert from "node:assert/strict";
import { once } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { MATCHERS_AHEAD_MS } from "../src/sessions/matchers.js";
import { keys } from "../src/sessions/records.js";
import type { Store } from "../src/store/types.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { runCli } from "./helpers/cli.js";
import { createTestClock } from "./helpers/clock.js";
import { freePort } from "./helpers/net.js";
import { storeFactories } from "./helpers/stores.js";
import { until } from "./helpers/until.js";

// Leaks found by the scan endpoint are revoked with their provider (here the JWT provider; AWS
// and GitHub in test/aws-provider.test.ts and test/github-provider.test.ts).
for (const factory of storeFactories()) {
  describe(`scan endpoint (${factory.name} store)`, () => {
    let store: Store;
    let broker: TestBroker;
    let api: string;
    const tokens: Record<string, string> = {};
    /** Calls the broker made to its store: the store as is, with a count in front. */
    let storeCalls = 0;
    const openSession = async (sessionId: string) => {
      const opened = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId, scopes: ["build"] },
      });
      assert.equal(opened.statusCode, 201, opened.body);
      tokens[sessionId] = opened.json().credentials[0].secret.token;
      return tokens[sessionId] as string;
    };

    before(async () => {
      const real = await factory.create();
      store = new Proxy(real, {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            storeCalls++;
            return value.apply(target, args);
          };
        },
      });
      const port = await freePort();
      broker = await createTestBroker({ store, config: { publicUrl: `http://127.0.0.1:${port}` } });
      await broker.apps.api.listen({ host: "127.0.0.1", port });
      api = `http://127.0.0.1:${port}`;
      for (const id of ["leaky", "bystander", "quiet", "streaming", "broken"]) await openSession(id);
    });
    after(async () => {
      await broker.close();
      await store.close();
    });

    const scanBody = (sessionId: string, body: string) =>
      broker.apps.api.inject({
        method: "POST",
        url: `/v1/sessions/${sessionId}/scan`,
        headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
        payload: body,
      });

    const introspect = async (token: string) =>
      (
        await broker.apps.api.inject({
          method: "POST",
          url: "/v1/introspect",
          headers: bearer(broker.keys.auditor),
          payload: { token },
        })
      ).json().active;

    const auditOf = async (sessionId: string) =>
      (
        await broker.apps.api.inject({
          method: "GET",
          url: `/v1/audit?sessionId=${sessionId}&order=oldest`,
          headers: bearer(broker.keys.auditor),
        })
      ).json().events as { action: string; outcome: string; reason?: string }[];

    /** A scan request whose body the test writes piece by piece. */
    const openScan = (sessionId: string) => {
      const request = httpRequest(`${api}/v1/sessions/${sessionId}/scan`, {
        method: "POST",
        headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
      });
      const answered = once(request, "response").then(async ([response]) => {
        let body = "";
        for await (const chunk of response as IncomingMessage) body += chunk;
        return { status: (response as IncomingMessage).statusCode, body: JSON.parse(body) };
      });
      return { request, answered };
    };

    test("a clean body: no findings, nothing revoked", async () => {
      const response = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions/quiet/scan",
        headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
        payload: "build ok\n12 tests passed\n",
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json().findings, []);
      assert.deepEqual(response.json().revoked, []);
      assert.equal(await introspect(tokens.quiet as string), true);
    });

    test("the session's own token (base64-encoded) and another session's (hex-encoded) are revoked at once", async () => {
      const own = tokens.leaky as string;
      const other = tokens.bystander as string;
      const body = [
        "step 1: fetching config",
        `debug: Authorization: Basic ${Buffer.from(`user:${own}`).toString("base64")}`,
        `cache key ${Buffer.from(other).toString("hex")}`,
        "done",
      ].join("\n");
      // Streamed in small chunks: the endpoint never needs the whole body at once.
      const chunks = body.match(/[\s\S]{1,7}/g) ?? [];
      const response = await fetch(`${api}/v1/sessions/leaky/scan`, {
        method: "POST",
        headers: { ...bearer(broker.keys.orchA), "content-type": "application/octet-stream" },
        body: Readable.toWeb(Readable.from(chunks)) as ReadableStream,
        duplex: "half",
      } as RequestInit);
      const result = (await response.json()) as any;
      assert.equal(response.status, 200, JSON.stringify(result));
      const issued = result.findings.filter((f: any) => f.ruleId === "latchkey-issued");
      assert.deepEqual(issued.map((f: any) => `${f.sessionId}:${f.encoding}:${f.line}`).sort(), [
        "bystander:hex:3",
        "leaky:base64:2",
      ]);
      assert.deepEqual(result.revoked.map((r: any) => `${r.sessionId}:${r.state}`).sort(), [
        "bystander:revoked",
        "leaky:revoked",
      ]);
      assert.equal(await introspect(own), false);
      assert.equal(await introspect(other), false);
      assert.equal(JSON.stringify(result).includes(own), false, "the answer never holds the secret");
      for (const f of result.findings) assert.ok(f.preview.length <= 5);

      const audit = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/audit?action=leak.detected&order=oldest",
        headers: bearer(broker.keys.auditor),
      });
      const events = audit.json().events;
      assert.deepEqual(events.map((e: any) => e.sessionId).sort(), ["bystander", "leaky"]);
      for (const sessionId of ["leaky", "bystander"]) {
        const actions = (await auditOf(sessionId)).map((e) => `${e.action}:${e.reason ?? ""}`);
        const detected = actions.indexOf("leak.detected:revoking");
        assert.ok(detected >= 0, `${sessionId}: ${actions}`);
        assert.ok(actions.indexOf("credential.revoked:leaked") > detected, `${sessionId}: ${actions}`);
      }
    });

    test("a credential issued since the last scan is looked for in the next one", async () => {
      // The first scan leaves its scanner for the next ones; a new session's credential must
      // still be found by the very next scan.
      assert.equal((await scanBody("quiet", "nothing here\n")).statusCode, 200);
      const late = await openSession("latecomer");
      const response = await scanBody("quiet", `export API_TOKEN=${late}\n`);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(
        response.json().revoked.map((r: any) => `${r.sessionId}:${r.state}`),
        ["latecomer:revoked"],
      );
      assert.equal(await introspect(late), false);
      assert.equal(await introspect(tokens.quiet as string), true);
    });

    test("a scan reads every live session in the same number of store calls, however many there are", async () => {
      const callsOfScan = async () => {
        await scanBody("quiet", "warming up\n"); // matchers of sessions seen for the first time
        const before = storeCalls;
        assert.equal((await scanBody("quiet", "nothing here\n")).statusCode, 200);
        return storeCalls - before;
      };
      const few = await callsOfScan();
      for (let i = 0; i < 20; i++) await openSession(`crowd-${i}`);
      const many = await callsOfScan();
      assert.equal(many, few, "twenty more live sessions, no more store calls");
      const response = await scanBody("quiet", `token ${tokens["crowd-7"]}\n`);
      assert.deepEqual(
        response.json().revoked.map((r: any) => r.sessionId),
        ["crowd-7"],
        "and each of them is still looked for",
      );
    });

    test("a leak is revoked while the body is still arriving", async () => {
      const token = tokens.streaming as string;
      const { request, answered } = openScan("streaming");
      request.write(`step 1\nexport TOKEN=${token}\n`);
      // Past the window within which a finding can still be joined by what follows it.
      request.write("build output line\n".repeat(20_000));
      await until(async () => (await introspect(token)) === false, "revoked before the body ends");
      request.end("done\n");
      const { status, body } = await answered;
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(
        body.revoked.map((r: any) => `${r.sessionId}:${r.state}`),
        ["streaming:revoked"],
      );
    });

    test("a body that breaks off: what arrived is scanned and its leak revoked", async () => {
      const token = tokens.broken as string;
      // The body fails right after the secret, before the scanner would have settled it.
      async function* breaksOff() {
        yield Buffer.from(`export TOKEN=${token}\nmore output\n`);
        throw Object.assign(new Error("aborted"), { code: "ECONNRESET" });
      }
      // The client's side of the request fails as the body does; the broker goes on without it.
      await assert.rejects(
        broker.apps.api.inject({
          method: "POST",
          url: "/v1/sessions/broken/scan",
          headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
          payload: Readable.from(breaksOff()),
        }),
        /aborted/,
      );
      await until(
        async () => (await auditOf("broken")).some((e) => e.action === "scan.completed"),
        "the scan's end is audited",
      );
      assert.equal(await introspect(token), false, "revoked though the body broke off");
      const events = await auditOf("broken");
      const actions = events.map((e) => `${e.action}:${e.reason ?? ""}`);
      const detected = actions.indexOf("leak.detected:revoking");
      assert.ok(detected >= 0 && actions.indexOf("credential.revoked:leaked") > detected, `${actions}`);
      const completed = events.find((e) => e.action === "scan.completed");
      assert.equal(completed?.outcome, "failure");
      assert.equal(completed?.reason, "body incomplete");
    });

    test("a recently revoked secret is still recognised, and reported without a second revocation", async () => {
      const response = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions/leaky/scan",
        headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
        payload: `again: ${tokens.leaky}`,
      });
      assert.deepEqual(response.json().revoked, [
        { credentialId: response.json().findings[0].credentialId, sessionId: "leaky", state: "revoked" },
      ]);
    });

    test("a credential that expires unrevoked is still recognised: its matchers are kept before its secret goes", async () => {
      let now = Date.now();
      const ownStore = await factory.create();
      const local = await createTestBroker({ store: ownStore, clock: { now: () => now } });
      try {
        const opened = await local.apps.api.inject({
          method: "POST",
          url: "/v1/sessions",
          headers: bearer(local.keys.orchA),
          payload: { sessionId: "lapsed", scopes: ["build"] },
        });
        const [credential] = opened.json().credentials;
        const stored = () => ownStore.get(keys.matchers("lapsed", credential.id));
        await local.worker.tick();
        assert.equal(await stored(), null, "not due yet: issuing stores no matchers");
        // More than one store page of them fall due together; one pass keeps every one.
        const others: [string, string][] = [];
        for (let i = 0; i < 120; i++) {
          const more = await local.apps.api.inject({
            method: "POST",
            url: "/v1/sessions",
            headers: bearer(local.keys.orchA),
            payload: { sessionId: `lapsed-${i}`, scopes: ["build"] },
          });
          others.push([`lapsed-${i}`, more.json().credentials[0].id]);
        }
        now = Date.parse(credential.expiresAt) - MATCHERS_AHEAD_MS / 2;
        await local.worker.tick();
        assert.ok(await stored(), "due: the background pass stores them");
        for (const [sessionId, credentialId] of others) {
          assert.ok(await ownStore.get(keys.matchers(sessionId, credentialId)), sessionId);
        }
        // What the secret's store expiry does at expiresAt, without waiting for it.
        await ownStore.commit([], [{ op: "delete", key: keys.secret("lapsed", credential.id) }]);
        const response = await local.apps.api.inject({
          method: "POST",
          url: "/v1/sessions/lapsed/scan",
          headers: { ...bearer(local.keys.orchA), "content-type": "text/plain" },
          payload: `old log: ${credential.secret.token}`,
        });
        assert.equal(response.statusCode, 200, response.body);
        const [finding] = response.json().findings;
        assert.equal(finding?.ruleId, "latchkey-issued");
        assert.equal(finding?.credentialId, credential.id);
        assert.equal(finding?.sessionId, "lapsed");
      } finally {
        await local.close();
        await ownStore.close();
      }
    });

    test("only the owner may scan; auditors may read matchers; no matcher holds a secret", async () => {
      const foreign = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions/leaky/scan",
        headers: { ...bearer(broker.keys.orchB), "content-type": "text/plain" },
        payload: "x",
      });
      assert.equal(foreign.statusCode, 404);
      const auditorScan = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions/leaky/scan",
        headers: { ...bearer(broker.keys.auditor), "content-type": "text/plain" },
        payload: "x",
      });
      assert.equal(auditorScan.statusCode, 403);
      const matchers = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/leaky/matchers",
        headers: bearer(broker.keys.auditor),
      });
      assert.equal(matchers.statusCode, 200);
      assert.ok(matchers.json().matchers.length > 5);
      for (const secret of Object.values(tokens))
        assert.equal(matchers.body.includes(secret.slice(-16)), false);
    });

    test("`latchkey scan --session --broker` finds the session's secrets with matchers from the broker", async () => {
      const input = `log line\nexport TOKEN=${tokens.quiet}\n`;
      const scanWith = (key: string) =>
        runCli(["scan", "--session", "quiet", "--broker", api, "--format", "json", "-"], {
          env: { PATH: process.env.PATH ?? "", LATCHKEY_API_KEY: key },
          input,
        });
      // An auditor may load any session's matchers, an orchestrator those of its own sessions.
      for (const key of [broker.keys.auditor, broker.keys.orchA]) {
        const result = await scanWith(key);
        assert.equal(result.code, 1, result.stderr);
        const report = JSON.parse(result.stdout);
        assert.equal(report.findings[0].ruleId, "latchkey-issued");
        assert.equal(report.findings[0].sessionId, "quiet");
        assert.equal(result.stdout.includes(tokens.quiet as string), false);
      }
      const stranger = await scanWith(broker.keys.orchB);
      assert.equal(stranger.code, 2, stranger.stdout);
      assert.match(stranger.stderr, /quiet/);

      // The output of several sessions, checked at once.
      const second = await openSession("cli-second");
      const both = await runCli(
        ["scan", "--session", "quiet", "--session", "cli-second", "--broker", api, "--format", "json", "-"],
        {
          env: { PATH: process.env.PATH ?? "", LATCHKEY_API_KEY: broker.keys.auditor },
          input: `${encodeURIComponent(second)}\n${input}`,
        },
      );
      assert.equal(both.code, 1, both.stderr);
      assert.deepEqual(
        JSON.parse(both.stdout).findings.map((f: any) => `${f.sessionId}:${f.encoding}:${f.line}`),
        ["cli-second:raw:1", "quiet:raw:3"],
      );
    });

    test("no secret appears in logs or the audit export", async () => {
      const exported = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/audit/export",
        headers: bearer(broker.keys.auditor),
      });
      for (const token of Object.values(tokens)) {
        assert.equal(broker.logs.join("").includes(token), false);
        assert.equal(exported.body.includes(token), false);
      }
    });
  });

  test(`limits.scanLiveSessions: the sessions expiring soonest are looked through, and the limit is said once (${factory.name} store)`, async () => {
    const store = await factory.create();
    const clock = createTestClock();
    const broker = await createTestBroker({ store, clock, config: { limits: { scanLiveSessions: 3 } } });
    try {
      const token: Record<string, string> = {};
      for (const id of ["first", "second", "third", "fourth", "fifth"]) {
        const opened = await broker.apps.api.inject({
          method: "POST",
          url: "/v1/sessions",
          headers: bearer(broker.keys.orchA),
          payload: { sessionId: id, scopes: ["build"] },
        });
        assert.equal(opened.statusCode, 201, opened.body);
        token[id] = opened.json().credentials[0].secret.token;
        clock.advance(1000); // each expires a second after the one before
      }
      const scan = async (body: string) => {
        const response = await broker.apps.api.inject({
          method: "POST",
          url: "/v1/sessions/first/scan",
          headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
          payload: body,
        });
        assert.equal(response.statusCode, 200, response.body);
        return response.json().revoked.map((r: { sessionId: string }) => r.sessionId);
      };
      // The three expiring soonest: "first" (scanned: its own are always looked for), "second", "third".
      assert.deepEqual(await scan(`${token.fifth}\n${token.second}\n`), ["second"]);
      assert.deepEqual(await scan(`${token.first}\n${token.fourth}\n`), ["first"]);
      const warnings = broker.logs.filter((line) => line.includes("limits.scanLiveSessions"));
      assert.equal(warnings.length, 1, "said once, not at every scan");
      assert.match(warnings[0] as string, /"limit":3/);
      for (const secret of Object.values(token)) assert.equal(broker.logs.join("").includes(secret), false);
    } finally {
      await broker.close();
      await store.close();
    }
  });
}
