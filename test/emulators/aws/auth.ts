// Who signed the request: the broker's long-term key or a temporary credential this emulator
// issued. Checks run in the order AWS's answers suggest: credential scope, clock skew, the key and
// its session token, expiry, then the signature itself.
import { timingSafeEqual } from "node:crypto";
import { AwsError } from "./errors.js";
import {
  type Authorization,
  checkRequestTime,
  checkScope,
  headerValues,
  type ReceivedRequest,
  verifySignature,
} from "./sigv4.js";
import type { Caller, EmulatorState } from "./state.js";
import type { Service } from "./xml.js";

const invalidToken = () => new AwsError("InvalidClientTokenId");

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * IAM is a global service that real clients sign for us-east-1; through an emulator endpoint the
 * SDK signs with the client's region, so IAM accepts both.
 */
function signingRegions(state: EmulatorState, service: Service): string[] {
  return service === "iam" && state.region !== "us-east-1" ? [state.region, "us-east-1"] : [state.region];
}

export function authenticate(
  state: EmulatorState,
  request: ReceivedRequest,
  auth: Authorization | undefined,
  service: Service,
): Caller {
  if (auth === undefined) throw new AwsError("MissingAuthenticationToken");
  checkScope(auth, service, signingRegions(state, service));
  const now = state.now();
  checkRequestTime(auth, now);
  const tokens = headerValues(request, "x-amz-security-token");

  if (auth.accessKeyId === state.broker.accessKeyId) {
    // A long-term key with a session token (typically a stale AWS_SESSION_TOKEN) is refused.
    if (tokens.length > 0) throw invalidToken();
    verifySignature(request, auth, state.broker.secretAccessKey);
    return { kind: "user", user: state.broker };
  }

  const session = state.session(auth.accessKeyId);
  if (session === undefined) throw invalidToken();
  const [token] = tokens;
  if (token === undefined || tokens.length > 1 || !sameText(token, session.sessionToken))
    throw invalidToken();
  if (!auth.signedHeaders.includes("x-amz-security-token")) {
    throw new AwsError(
      "IncompleteSignature",
      "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  if (now >= session.expiresAt) throw new AwsError("ExpiredToken");
  verifySignature(request, auth, session.secretAccessKey);
  return { kind: "session", session };
}
