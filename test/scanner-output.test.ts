import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import ajvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { createScanner } from "../src/scanner/engine.js";
import { encodedForms } from "../src/scanner/matchers.js";
import { formatJson, formatText, summarize } from "../src/scanner/report.js";
import { defaultRules } from "../src/scanner/rules/index.js";
import { formatSarif } from "../src/scanner/sarif.js";
import { buildCorpus } from "./scanner/corpus.js";
import { chunksOf, Sink, streamed } from "./scanner/support.js";

// The SARIF 2.1.0 schema as published with Microsoft's SARIF SDK (draft-04, hence ajv-draft-04).
const require = createRequire(import.meta.url);
const sarifSchema = JSON.parse(
  readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8"),
) as object;
// Both are CommonJS with an `exports.default`; under NodeNext a default import is the module.
const AjvDraft04 = ajvDraft04Module.default;
const addFormats = addFormatsModule.default;

describe("reports", async () => {
  const corpus = buildCorpus(99, 400);
  const scanner = createScanner({ matchers: corpus.matchers, awsAccounts: ["123456789012"] });
  const sink = new Sink();
  const { findings, bytes } = await scanner.scan(streamed(chunksOf(corpus.bytes, 1000)), {
    path: "logs/run 1/agent.log",
    redactTo: sink,
  });
  const summary = summarize(findings, { files: 1, skipped: 0, bytes, durationMs: 12 });
  const outputs = {
    json: formatJson(findings, summary),
    sarif: formatSarif(findings, scanner.rules, "0.1.0"),
    text: formatText(findings, summary),
    redacted: sink.text(),
  };
  const secrets = [
    ...corpus.planted.map((p) => p.text),
    ...corpus.issued.flatMap((item) => encodedForms(item.secret).map((form) => form.text)),
  ];

  test("the corpus produced findings of every kind", () => {
    assert.ok(findings.length >= corpus.planted.length);
    assert.deepEqual(
      [...new Set(findings.map((f) => f.ruleId))].sort(),
      ["latchkey-issued", ...defaultRules.map((r) => r.id)].sort(),
    );
  });

  test("SARIF is valid SARIF 2.1.0", () => {
    // The schema's `language` pattern is not valid with the `u` flag, so compile without it.
    const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(sarifSchema);
    const log = JSON.parse(outputs.sarif) as unknown;
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  });

  test("SARIF carries rule metadata, locations and our fingerprint", () => {
    const log = JSON.parse(outputs.sarif) as {
      runs: Array<{
        tool: { driver: { rules: Array<{ id: string }> } };
        results: Array<{
          ruleId: string;
          ruleIndex: number;
          partialFingerprints: Record<string, string>;
          locations: Array<{
            physicalLocation: { artifactLocation: { uri: string }; region: Record<string, number> };
          }>;
        }>;
      }>;
    };
    const run = log.runs[0];
    assert.ok(run);
    const ruleIds = run.tool.driver.rules.map((r) => r.id);
    assert.deepEqual(ruleIds.sort(), ["latchkey-issued", ...defaultRules.map((r) => r.id)].sort());
    assert.equal(run.results.length, findings.length);
    for (const [i, result] of run.results.entries()) {
      const finding = findings[i];
      assert.ok(finding);
      assert.equal(run.tool.driver.rules[result.ruleIndex]?.id, result.ruleId);
      assert.equal(result.partialFingerprints["latchkeyFingerprint/v1"], finding.fingerprint);
      const location = result.locations[0]?.physicalLocation;
      assert.equal(location?.artifactLocation.uri, "logs/run%201/agent.log");
      assert.deepEqual(location?.region, {
        startLine: finding.line,
        startColumn: finding.column,
        byteOffset: finding.offset,
        byteLength: finding.length,
      });
    }
  });

  test("JSON holds the findings and the summary", () => {
    const parsed = JSON.parse(outputs.json) as { findings: unknown[]; summary: typeof summary };
    assert.equal(parsed.findings.length, findings.length);
    assert.equal(parsed.summary.findings, findings.length);
    assert.equal(parsed.summary.bytes, corpus.bytes.length);
    assert.equal(
      Object.values(parsed.summary.bySeverity).reduce((a, b) => a + b, 0),
      findings.length,
    );
  });

  test("text lists each finding with its place and ends with a summary", () => {
    const lines = outputs.text.trimEnd().split("\n");
    assert.equal(lines.length, findings.length + 2);
    assert.match(
      lines[0] ?? "",
      /^logs\/run 1\/agent\.log:\d+:\d+ {2}\w+ +[\w-]+ {2}.{1,4}… {2}\(fingerprint [0-9a-f]{12}/,
    );
    assert.match(
      lines.at(-1) ?? "",
      new RegExp(`^${findings.length} secrets found \\(\\d+ critical.*\\) in 1 input, `),
    );
    assert.equal(
      formatText([], summarize([], { files: 3, skipped: 1, bytes: 2048, durationMs: 1 })),
      "No secrets found (3 inputs, 2.0 kB; 1 binary file skipped).\n",
    );
  });

  test("the redacted copy has a marker where each secret was", () => {
    for (const finding of findings) {
      assert.ok(outputs.redacted.includes(`[REDACTED:${finding.ruleId}:${finding.fingerprint.slice(0, 8)}]`));
    }
    const rest = outputs.redacted.replace(/\[REDACTED:[\w-]+:[0-9a-f]{8}\]/g, "");
    assert.ok(rest.length > 0.8 * (corpus.bytes.length - findings.reduce((n, f) => n + f.length, 0)));
  });

  test("no output contains a planted secret in full", () => {
    for (const [name, output] of Object.entries(outputs)) {
      for (const secret of secrets) assert.ok(!output.includes(secret), `${name} contains a secret`);
    }
  });
});
