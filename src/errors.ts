// One catalog of every error Latchkey answers with. The code is the stable contract clients
// match on; the title is fixed per code; the detail is written for the caller and must never
// carry a secret or an internal cause (those go to the debug log through `cause`).

export const errorCatalog = {
  BAD_REQUEST: { status: 400, title: "The request is malformed" },
  VALIDATION_FAILED: { status: 400, title: "The request failed validation" },
  UNAUTHENTICATED: { status: 401, title: "Authentication is required" },
  FORBIDDEN: { status: 403, title: "The caller may not do this" },
  SCOPE_NOT_ALLOWED: { status: 403, title: "The client may not use this scope" },
  GRANT_WIDENING: { status: 403, title: "The request would widen the grant" },
  PROXIED_REQUEST: { status: 403, title: "Proxied requests are refused" },
  NOT_FOUND: { status: 404, title: "Not found" },
  SESSION_NOT_FOUND: { status: 404, title: "No such session" },
  SCOPE_NOT_FOUND: { status: 404, title: "No such scope" },
  GRANT_NOT_FOUND: { status: 404, title: "No such grant" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  NOT_ACCEPTABLE: { status: 406, title: "Not acceptable" },
  SESSION_EXISTS: { status: 409, title: "The session already exists" },
  SESSION_NOT_ACTIVE: { status: 409, title: "The session is not active" },
  CONFLICT: { status: 409, title: "The resource changed concurrently" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "The request body is too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL: { status: 500, title: "Internal error" },
  PROVIDER_DENIED: { status: 502, title: "The credential provider refused the request" },
  PROVIDER_REJECTED: { status: 502, title: "The credential provider rejected the request as invalid" },
  PROVIDER_UNAVAILABLE: { status: 503, title: "The credential provider is unavailable" },
  PROVIDER_ERROR: { status: 502, title: "The credential provider failed" },
  STORE_UNAVAILABLE: { status: 503, title: "The state store is unavailable" },
  SHUTTING_DOWN: { status: 503, title: "The broker is shutting down" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export interface LatchkeyErrorOptions {
  /** Precise internal reason; logged at debug level, never sent to the client. */
  cause?: unknown;
  /** Extra, safe, machine-readable members for the problem document (e.g. `field`). */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class LatchkeyError extends Error {
  override readonly name = "LatchkeyError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, detail: string, options: LatchkeyErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = errorCatalog[code];
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.detail = detail;
    this.extra = options.extra;
    this.headers = options.headers;
  }
}

export function isLatchkeyError(value: unknown): value is LatchkeyError {
  return value instanceof LatchkeyError;
}

/** Raised by stores when the backing service cannot be reached in time; the broker fails closed. */
export class StoreUnavailableError extends LatchkeyError {
  constructor(cause: unknown) {
    super("STORE_UNAVAILABLE", "The state store did not answer in time; try again shortly.", {
      cause,
      headers: { "retry-after": "1" },
    });
  }
}
