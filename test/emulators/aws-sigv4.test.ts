// The emulator's SigV4 verifier against AWS's published examples (the SigV4 test suite's
// "service" vectors, the IAM ListUsers example of the signing guide, the S3 API reference's
// header-signing examples), its refusals, and the key-id encoding.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AwsError } from "./aws/errors.js";
import {
  accountIdFromKeyId,
  amzDate,
  base32Decode,
  base32Encode,
  isoSeconds,
  newKeyId,
  newSecretAccessKey,
  newSessionToken,
  newUniqueId,
} from "./aws/ids.js";
import {
  canonicalRequest,
  checkRequestTime,
  checkScope,
  parseAuthorization,
  type ReceivedRequest,
  sha256Hex,
  signingKey,
  stringToSign,
  verifySignature,
} from "./aws/sigv4.js";

// The credentials every SigV4 test-suite vector is signed with (AWS documentation example values).
const SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
// The S3 API reference signs its examples with a slightly different example secret.
const S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

interface Vector {
  readonly name: string;
  readonly method: string;
  readonly target: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly secret: string;
}

function request(vector: Vector, signature = vector.signature): ReceivedRequest {
  const q = vector.target.indexOf("?");
  const authorization = `AWS4-HMAC-SHA256 Credential=${vector.credential}, SignedHeaders=${vector.signedHeaders}, Signature=${signature}`;
  return {
    method: vector.method,
    path: q < 0 ? vector.target : vector.target.slice(0, q),
    query: q < 0 ? "" : vector.target.slice(q + 1),
    headers: [...vector.headers, ["Authorization", authorization]],
    body: Buffer.from(vector.body ?? ""),
  };
}

const suiteHost = ["Host", "example.amazonaws.com"] as const;
const suiteDate = ["X-Amz-Date", "20150830T123600Z"] as const;

const vectors: Vector[] = [
  {
    name: "get-vanilla",
    method: "GET",
    target: "/",
    headers: [suiteHost, suiteDate],
    credential: SUITE_SCOPE,
    signedHeaders: "host;x-amz-date",
    signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    secret: SUITE_SECRET,
  },
  {
    name: "get-vanilla-query-order-key-case",
    method: "GET",
    target: "/?Param2=value2&Param1=value1",
    headers: [suiteHost, suiteDate],
    credential: SUITE_SCOPE,
    signedHeaders: "host;x-amz-date",
    signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    secret: SUITE_SECRET,
  },
  {
    name: "get-header-value-trim",
    method: "GET",
    target: "/",
    headers: [suiteHost, ["My-Header1", " value1"], ["My-Header2", ' "a   b   c"'], suiteDate],
    credential: SUITE_SCOPE,
    signedHeaders: "host;my-header1;my-header2;x-amz-date",
    signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    secret: SUITE_SECRET,
  },
  {
    name: "get-header-key-duplicate",
    method: "GET",
    target: "/",
    headers: [
      suiteHost,
      ["My-Header1", "value2"],
      ["My-Header1", "value2"],
      ["My-Header1", "value1"],
      suiteDate,
    ],
    credential: SUITE_SCOPE,
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    secret: SUITE_SECRET,
  },
  {
    name: "post-vanilla",
    method: "POST",
    target: "/",
    headers: [suiteHost, suiteDate],
    credential: SUITE_SCOPE,
    signedHeaders: "host;x-amz-date",
    signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    secret: SUITE_SECRET,
  },
  {
    name: "post-x-www-form-urlencoded",
    method: "POST",
    target: "/",
    headers: [["Content-Type", "application/x-www-form-urlencoded"], suiteHost, suiteDate],
    body: "Param1=value1",
    credential: SUITE_SCOPE,
    signedHeaders: "content-type;host;x-amz-date",
    signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    secret: SUITE_SECRET,
  },
  {
    name: "post-x-www-form-urlencoded-parameters",
    method: "POST",
    target: "/",
    headers: [["Content-Type", "application/x-www-form-urlencoded; charset=utf8"], suiteHost, suiteDate],
    body: "Param1=value1",
    credential: SUITE_SCOPE,
    signedHeaders: "content-type;host;x-amz-date",
    signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
    secret: SUITE_SECRET,
  },
  {
    name: "signing guide: IAM ListUsers",
    method: "GET",
    target: "/?Action=ListUsers&Version=2010-05-08",
    headers: [
      ["Host", "iam.amazonaws.com"],
      ["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"],
      suiteDate,
    ],
    credential: "AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request",
    signedHeaders: "content-type;host;x-amz-date",
    signature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    secret: SUITE_SECRET,
  },
  {
    name: "S3 API reference: GET object with a range",
    method: "GET",
    target: "/test.txt",
    headers: [
      ["Host", "examplebucket.s3.amazonaws.com"],
      ["Range", "bytes=0-9"],
      ["x-amz-content-sha256", EMPTY_SHA256],
      ["x-amz-date", "20130524T000000Z"],
    ],
    credential: "AKIDEXAMPLE/20130524/us-east-1/s3/aws4_request",
    signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
    signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    secret: S3_SECRET,
  },
  {
    name: "S3 API reference: GET bucket lifecycle (a parameter without value)",
    method: "GET",
    target: "/?lifecycle",
    headers: [
      ["Host", "examplebucket.s3.amazonaws.com"],
      ["x-amz-content-sha256", EMPTY_SHA256],
      ["x-amz-date", "20130524T000000Z"],
    ],
    credential: "AKIDEXAMPLE/20130524/us-east-1/s3/aws4_request",
    signedHeaders: "host;x-amz-content-sha256;x-amz-date",
    signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    secret: S3_SECRET,
  },
  {
    name: "S3 API reference: list objects",
    method: "GET",
    target: "/?max-keys=2&prefix=J",
    headers: [
      ["Host", "examplebucket.s3.amazonaws.com"],
      ["x-amz-content-sha256", EMPTY_SHA256],
      ["x-amz-date", "20130524T000000Z"],
    ],
    credential: "AKIDEXAMPLE/20130524/us-east-1/s3/aws4_request",
    signedHeaders: "host;x-amz-content-sha256;x-amz-date",
    signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    secret: S3_SECRET,
  },
];

function parsed(req: ReceivedRequest) {
  const auth = parseAuthorization(req);
  assert.ok(auth, "the request carries an Authorization header");
  return auth;
}

function refusal(code: string, message: string | RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AwsError);
    assert.equal(error.code, code);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  };
}

describe("SigV4 verifier against AWS's published examples", () => {
  for (const vector of vectors) {
    test(`${vector.name} verifies`, () => {
      const req = request(vector);
      assert.doesNotThrow(() => verifySignature(req, parsed(req), vector.secret));
    });

    test(`${vector.name} is refused with another secret or another signature`, () => {
      const req = request(vector);
      assert.throws(
        () => verifySignature(req, parsed(req), `${vector.secret}x`),
        refusal("SignatureDoesNotMatch", /^The request signature we calculated does not match/),
      );
      const flipped = vector.signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
      const forged = request(vector, flipped);
      assert.throws(
        () => verifySignature(forged, parsed(forged), vector.secret),
        refusal("SignatureDoesNotMatch", /^The request signature/),
      );
    });
  }

  test("the canonical forms match the suite's: trimmed and collapsed values, duplicates joined in order", () => {
    const trim = vectors.find((v) => v.name === "get-header-value-trim") as Vector;
    assert.equal(
      canonicalRequest(request(trim), ["host", "my-header1", "my-header2", "x-amz-date"]),
      `GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:"a b c"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n${EMPTY_SHA256}`,
    );
    const duplicate = vectors.find((v) => v.name === "get-header-key-duplicate") as Vector;
    assert.match(
      canonicalRequest(request(duplicate), ["host", "my-header1", "x-amz-date"]),
      /\nmy-header1:value2,value2,value1\n/,
    );
    const query = vectors.find((v) => v.name === "get-vanilla-query-order-key-case") as Vector;
    assert.match(
      canonicalRequest(request(query), ["host", "x-amz-date"]),
      /^GET\n\/\nParam1=value1&Param2=value2\n/,
    );
  });

  test("the signing guide's intermediate values: canonical request hash and signing key", () => {
    const iam = vectors.find((v) => v.name === "signing guide: IAM ListUsers") as Vector;
    const req = request(iam);
    const auth = parsed(req);
    const canonical = canonicalRequest(req, auth.signedHeaders);
    assert.equal(sha256Hex(canonical), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    assert.equal(
      stringToSign(auth, canonical),
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
    );
    assert.equal(
      signingKey(SUITE_SECRET, "20150830", "us-east-1", "iam").toString("hex"),
      "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
    );
  });

  test("a body that differs from what was signed is refused", () => {
    const form = vectors.find((v) => v.name === "post-x-www-form-urlencoded") as Vector;
    const req = { ...request(form), body: Buffer.from("Param1=value2") };
    assert.throws(
      () => verifySignature(req, parsed(req), SUITE_SECRET),
      refusal("SignatureDoesNotMatch", /^The request signature/),
    );
  });

  test("an x-amz-content-sha256 that is not the body's hash is refused", () => {
    const s3 = vectors.find((v) => v.name === "S3 API reference: GET object with a range") as Vector;
    const req = { ...request(s3), body: Buffer.from("not empty") };
    assert.throws(
      () => verifySignature(req, parsed(req), S3_SECRET),
      refusal("SignatureDoesNotMatch", /^The request signature/),
    );
  });

  test("a signed header that is missing from the request breaks the signature", () => {
    const trim = vectors.find((v) => v.name === "get-header-value-trim") as Vector;
    const req = request(trim);
    const stripped = { ...req, headers: req.headers.filter(([name]) => name !== "My-Header2") };
    assert.throws(
      () => verifySignature(stripped, parsed(stripped), SUITE_SECRET),
      refusal("SignatureDoesNotMatch", /^The request signature/),
    );
  });
});

describe("SigV4 refusals before the signature is checked", () => {
  const base = vectors[0] as Vector;
  const withAuthorization = (authorization: string, headers = base.headers): ReceivedRequest => ({
    method: "GET",
    path: "/",
    query: "",
    headers: [...headers, ["Authorization", authorization]],
    body: Buffer.alloc(0),
  });

  test("no Authorization header is no authorization", () => {
    assert.equal(
      parseAuthorization({
        method: "GET",
        path: "/",
        query: "",
        headers: [suiteHost],
        body: Buffer.alloc(0),
      }),
      undefined,
    );
  });

  const incomplete: Array<[string, string, ReadonlyArray<readonly [string, string]>, string]> = [
    [
      "missing Signature",
      `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host;x-amz-date`,
      base.headers,
      `Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host;x-amz-date`,
    ],
    [
      "missing Credential and SignedHeaders",
      "AWS4-HMAC-SHA256 Signature=abc",
      base.headers,
      "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Signature=abc",
    ],
    [
      "no date header",
      `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host, Signature=abc`,
      [suiteHost],
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host, Signature=abc`,
    ],
    [
      "another algorithm",
      "AWS4-HMAC-SHA512 Credential=x",
      base.headers,
      "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'",
    ],
    [
      "a short credential",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host;x-amz-date, Signature=abc",
      base.headers,
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/service'",
    ],
    [
      "a wrong terminator",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws5_request, SignedHeaders=host;x-amz-date, Signature=abc",
      base.headers,
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
    ],
    [
      "a malformed X-Amz-Date",
      `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host;x-amz-date, Signature=abc`,
      [suiteHost, ["X-Amz-Date", "2015-08-30T12:36:00Z"]],
      "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    ],
    [
      "an unsigned host",
      `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=x-amz-date, Signature=abc`,
      base.headers,
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    ],
  ];
  for (const [name, authorization, headers, message] of incomplete) {
    test(`IncompleteSignature: ${name}`, () => {
      assert.throws(
        () => parseAuthorization(withAuthorization(authorization, headers)),
        refusal("IncompleteSignature", message),
      );
    });
  }

  test("a credential scope dated otherwise than the request", () => {
    const authorization =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
    assert.throws(
      () => parseAuthorization(withAuthorization(authorization)),
      refusal(
        "SignatureDoesNotMatch",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
      ),
    );
  });

  test("a Date header stands in for X-Amz-Date", () => {
    const auth = parseAuthorization(
      withAuthorization(
        `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=date;host, Signature=abc`,
        [suiteHost, ["Date", "Sun, 30 Aug 2015 12:36:00 GMT"]],
      ),
    );
    assert.equal(auth?.requestDate, "20150830T123600Z");
    assert.equal(auth?.requestTimeMs, Date.UTC(2015, 7, 30, 12, 36, 0));
  });

  test("the credential scope must name the action's service and a served region", () => {
    const auth = parsed(request(base));
    assert.doesNotThrow(() => checkScope(auth, "service", ["us-east-1"]));
    assert.throws(
      () => checkScope(auth, "sts", ["us-east-1"]),
      refusal("SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'. "),
    );
    assert.throws(
      () => checkScope(auth, "service", ["eu-west-1"]),
      refusal("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'us-east-1'. "),
    );
  });

  test("requests signed more than 15 minutes away from the emulator's clock are refused", () => {
    const auth = parsed(request(base));
    const signedAt = Date.UTC(2015, 7, 30, 12, 36, 0);
    assert.doesNotThrow(() => checkRequestTime(auth, signedAt + 15 * 60 * 1000));
    assert.doesNotThrow(() => checkRequestTime(auth, signedAt - 15 * 60 * 1000));
    assert.throws(
      () => checkRequestTime(auth, signedAt + 15 * 60 * 1000 + 1000),
      refusal(
        "SignatureDoesNotMatch",
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)",
      ),
    );
    assert.throws(
      () => checkRequestTime(auth, signedAt - 20 * 60 * 1000),
      refusal(
        "SignatureDoesNotMatch",
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123100Z (20150830T121600Z + 15 min.)",
      ),
    );
  });
});

describe("AWS-shaped identifiers", () => {
  test("base32 round-trips with the RFC 4648 alphabet (value from Python's base64.b32encode)", () => {
    const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255, 16, 32, 64, 128]);
    const text = base32Encode(bytes);
    assert.equal(text, "AAAQF7P674ICAQEA");
    assert.deepEqual(base32Decode(text), bytes);
    assert.throws(() => base32Decode("a"), TypeError);
  });

  test("the account decodes from a published temporary key id", () => {
    assert.equal(accountIdFromKeyId("ASIAY34FZKBOKMUTVV7A"), "609629065308");
  });

  test("new key ids carry the account, look modern, and differ every time", () => {
    for (const account of ["123456789012", "000000000001", "999999999999"]) {
      const longTerm = newKeyId("AKIA", account);
      const temporary = newKeyId("ASIA", account);
      assert.match(longTerm, /^AKIA[Q-Z2-7][A-Z2-7]{15}$/);
      assert.match(temporary, /^ASIA[Q-Z2-7][A-Z2-7]{15}$/);
      assert.equal(accountIdFromKeyId(longTerm), account);
      assert.equal(accountIdFromKeyId(temporary), account);
    }
    assert.notEqual(newKeyId("AKIA", "123456789012"), newKeyId("AKIA", "123456789012"));
    assert.throws(() => newKeyId("AKIA", "1234"), TypeError);
  });

  test("unique ids, secrets and session tokens have AWS's shapes", () => {
    const roleId = newUniqueId("AROA", "123456789012");
    assert.match(roleId, /^AROA[A-Z2-7]{17}$/);
    assert.equal(accountIdFromKeyId(roleId), "123456789012");
    assert.match(newSecretAccessKey(), /^[A-Za-z0-9+/]{40}$/);
    const token = newSessionToken(0);
    assert.match(token, /^IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]+$/);
    assert.equal(token.length, 16 + 800);
    assert.equal(newSessionToken(0, 2000).length, 2000);
    assert.equal(newSessionToken(0, 100).length, 816);
  });

  test("timestamps print to the second", () => {
    const ms = Date.UTC(2026, 10, 26, 18, 0, 0, 999);
    assert.equal(isoSeconds(ms), "2026-11-26T18:00:00Z");
    assert.equal(amzDate(ms), "20261126T180000Z");
  });
});
