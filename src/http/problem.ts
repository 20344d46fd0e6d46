import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, isLatchkeyError, LatchkeyError } from "../errors.js";

const PROBLEM_TYPE_BASE = "https://latchkey.dev/problems/";

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId: string;
  [extra: string]: unknown;
}

export function problemFor(error: LatchkeyError, requestId: string): Problem {
  return {
    ...(error.extra ?? {}),
    type: `${PROBLEM_TYPE_BASE}${error.code.toLowerCase().replaceAll("_", "-")}`,
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.detail,
    requestId,
  };
}

/** Fastify's own errors (body parsing, limits) turned into catalog errors with safe details. */
function fromFastifyError(error: FastifyError): LatchkeyError {
  const status = error.statusCode ?? 500;
  if (status === 413)
    return new LatchkeyError("PAYLOAD_TOO_LARGE", "The request body exceeds the size limit.");
  if (status === 415) {
    return new LatchkeyError("UNSUPPORTED_MEDIA_TYPE", "This route does not accept that Content-Type.");
  }
  if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) {
    return new LatchkeyError("BAD_REQUEST", "The body is not valid JSON.");
  }
  if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
    return new LatchkeyError("BAD_REQUEST", "The body is empty but Content-Type is application/json.");
  }
  if (status >= 400 && status < 500) return new LatchkeyError("BAD_REQUEST", "The request is malformed.");
  return new LatchkeyError("INTERNAL", "The broker failed to handle this request; it has been logged.", {
    cause: error,
  });
}

export function sendProblem(reply: FastifyReply, error: LatchkeyError, requestId: string): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).type("application/problem+json").send(problemFor(error, requestId));
}

/** One error handler for a listener: every failure leaves as application/problem+json. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = isLatchkeyError(error) ? error : fromFastifyError(error);
    if (known.status >= 500) {
      request.log.error({ err: known.cause ?? error, code: known.code }, "request failed");
    } else if (known.cause !== undefined) {
      request.log.debug({ err: known.cause, code: known.code }, "request refused");
    }
    return sendProblem(reply, known, request.id);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new LatchkeyError("NOT_FOUND", "No route matches this method and path."), request.id),
  );
}
