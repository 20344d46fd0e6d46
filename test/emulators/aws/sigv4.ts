// An independent Signature Version 4 verifier, written from AWS's "Create a signed AWS API
// request" procedure and checked against the published test-suite vectors, so that it cannot
// share a misunderstanding with the SDK's signer. It works on the request as received: the raw
// path and query, every header line in arrival order (duplicates included), and the body bytes.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AwsError } from "./errors.js";
import { amzDate } from "./ids.js";

const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface ReceivedRequest {
  readonly method: string;
  /** Raw path as sent, without the query string. */
  readonly path: string;
  /** Raw query string as sent, without the leading `?`. */
  readonly query: string;
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body: Uint8Array;
}

export interface Authorization {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** The request time in ISO 8601 basic format, from `X-Amz-Date` or else `Date`. */
  readonly requestDate: string;
  readonly requestTimeMs: number;
}

export function headerValues(request: ReceivedRequest, name: string): string[] {
  const wanted = name.toLowerCase();
  return request.headers.filter(([n]) => n.toLowerCase() === wanted).map(([, v]) => v);
}

function header(request: ReceivedRequest, name: string): string | undefined {
  const values = headerValues(request, name);
  return values.length === 0 ? undefined : values.join(",");
}

function incomplete(message: string): AwsError {
  return new AwsError("IncompleteSignature", message);
}

function basicDateToMs(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function basicFromHttpDate(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : amzDate(ms);
}

/**
 * Parses the `Authorization` header; undefined when the request carries none. Structural problems
 * are `IncompleteSignature`, with AWS's habit of listing what is missing and echoing the header.
 */
export function parseAuthorization(request: ReceivedRequest): Authorization | undefined {
  const raw = header(request, "authorization");
  if (raw === undefined) return undefined;
  const space = raw.indexOf(" ");
  const algorithm = space < 0 ? raw : raw.slice(0, space);
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'`);
  const fields = new Map<string, string>();
  for (const part of raw.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  const amz = header(request, "x-amz-date");
  const date = header(request, "date");
  const missing: string[] = [];
  if (credential === undefined) missing.push("Authorization header requires 'Credential' parameter.");
  if (signature === undefined) missing.push("Authorization header requires 'Signature' parameter.");
  if (signedHeaders === undefined) missing.push("Authorization header requires 'SignedHeaders' parameter.");
  if (amz === undefined && date === undefined) {
    missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (
    credential === undefined ||
    signature === undefined ||
    signedHeaders === undefined ||
    missing.length > 0
  ) {
    throw incomplete(`${missing.join(" ")} Authorization=${raw}`);
  }

  const requestDate = amz ?? basicFromHttpDate(date ?? "");
  const requestTimeMs = basicDateToMs(requestDate);
  if (Number.isNaN(requestTimeMs)) {
    throw incomplete(
      `Date must be in ISO-8601 'basic format'. Got '${requestDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }

  const scope = credential.split("/");
  if (scope.length !== 5) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, scopeDate, region, service, terminator] = scope as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (terminator !== TERMINATOR) {
    throw incomplete(
      `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`,
    );
  }
  if (scopeDate !== requestDate.slice(0, 8)) {
    throw new AwsError(
      "SignatureDoesNotMatch",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${requestDate.slice(0, 8)}', from '${requestDate}'.`,
    );
  }
  const headerNames = signedHeaders.split(";");
  if (!headerNames.includes("host") && !headerNames.includes(":authority")) {
    throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    signedHeaders: headerNames,
    signature,
    requestDate,
    requestTimeMs,
  };
}

/** The scope must name the service the action belongs to and a region this endpoint serves. */
export function checkScope(auth: Authorization, service: string, regions: readonly string[]): void {
  if (auth.service !== service) {
    throw new AwsError(
      "SignatureDoesNotMatch",
      `Credential should be scoped to correct service: '${service}'. `,
    );
  }
  if (!regions.includes(auth.region)) {
    throw new AwsError(
      "SignatureDoesNotMatch",
      `Credential should be scoped to a valid region, not '${auth.region}'. `,
    );
  }
}

/** AWS refuses requests signed more than 15 minutes away from its clock, either way. */
export function checkRequestTime(auth: Authorization, nowMs: number): void {
  const now = amzDate(nowMs);
  if (auth.requestTimeMs < nowMs - MAX_SKEW_MS) {
    throw new AwsError(
      "SignatureDoesNotMatch",
      `Signature expired: ${auth.requestDate} is now earlier than ${amzDate(nowMs - MAX_SKEW_MS)} (${now} - 15 min.)`,
    );
  }
  if (auth.requestTimeMs > nowMs + MAX_SKEW_MS) {
    throw new AwsError(
      "SignatureDoesNotMatch",
      `Signature not yet current: ${auth.requestDate} is still later than ${amzDate(nowMs + MAX_SKEW_MS)} (${now} + 15 min.)`,
    );
  }
}

/** RFC 3986 percent-encoding: everything but `A-Za-z0-9-_.~`, upper-case hex. */
export function uriEncode(text: string, keepSlash = false): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// Services other than S3 normalise the path and encode it once more on top of what was sent,
// which is why an already-encoded `%20` is signed as `%2520`.
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "..") segments.pop();
    else if (segment !== "." && segment !== "") segments.push(segment);
  }
  const trailing = rawPath.endsWith("/") && segments.length > 0 ? "/" : "";
  return uriEncode(`/${segments.join("/")}${trailing}`, true);
}

function canonicalQuery(rawQuery: string): string {
  return rawQuery
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = uriEncode(safeDecode(eq < 0 ? pair : pair.slice(0, eq)));
      const value = uriEncode(safeDecode(eq < 0 ? "" : pair.slice(eq + 1)));
      return [name, value] as const;
    })
    .sort(([an, av], [bn, bv]) => (an === bn ? (av < bv ? -1 : av > bv ? 1 : 0) : an < bn ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.trim().replace(/\s+/g, " ")).join(",");
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export function canonicalRequest(request: ReceivedRequest, signedHeaders: readonly string[]): string {
  const headerLines = signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(headerValues(request, name))}\n`,
  );
  return [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    canonicalQuery(request.query),
    headerLines.join(""),
    signedHeaders.join(";"),
    sha256Hex(request.body),
  ].join("\n");
}

export function stringToSign(auth: Authorization, canonical: string): string {
  const scope = [auth.scopeDate, auth.region, auth.service, TERMINATOR].join("/");
  return [ALGORITHM, auth.requestDate, scope, sha256Hex(canonical)].join("\n");
}

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const hmac = (key: Buffer | string, data: string) =>
    createHmac("sha256", key).update(data, "utf8").digest();
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), TERMINATOR);
}

/** Throws `SignatureDoesNotMatch` unless the request was signed with `secretAccessKey` as received. */
export function verifySignature(
  request: ReceivedRequest,
  auth: Authorization,
  secretAccessKey: string,
): void {
  const declaredHash = header(request, "x-amz-content-sha256");
  if (declaredHash !== undefined && declaredHash !== sha256Hex(request.body)) {
    throw new AwsError("SignatureDoesNotMatch");
  }
  const key = signingKey(secretAccessKey, auth.scopeDate, auth.region, auth.service);
  const expected = createHmac("sha256", key).update(
    stringToSign(auth, canonicalRequest(request, auth.signedHeaders)),
  );
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(auth.signature) ? auth.signature : "", "hex");
  const wanted = expected.digest();
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
    throw new AwsError("SignatureDoesNotMatch");
}
