// The HTTP side: one node:http listener answers STS and IAM. A request is routed by its `Action`
// (and, when the action is unknown, by the service in its credential scope or its `Version`),
// authenticated unless the operation is unsigned, subjected to injected failures, run, and
// answered with the service's XML, `x-amzn-RequestId`, `Date` (from the emulator's clock, which
// SDKs read to correct skew) and `Content-Type: text/xml`.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { authenticate } from "./auth.js";
import { AwsError } from "./errors.js";
import { iamOperations } from "./iam.js";
import type { Operation } from "./operation.js";
import { parseQueryParams, type QueryParams } from "./query.js";
import { type Authorization, parseAuthorization, type ReceivedRequest } from "./sigv4.js";
import type { EmulatorState, RequestRecord } from "./state.js";
import { stsOperations } from "./sts.js";
import { renderError, renderResult, type Service, type Xml } from "./xml.js";

const MAX_BODY_BYTES = 1024 * 1024;

const versions: Record<Service, string> = { sts: "2011-06-15", iam: "2010-05-08" };
const operations: Record<Service, Record<string, Operation>> = { sts: stsOperations, iam: iamOperations };

function serviceOf(action: string): Service | undefined {
  if (Object.hasOwn(stsOperations, action)) return "sts";
  if (Object.hasOwn(iamOperations, action)) return "iam";
  return undefined;
}

function guessService(params: QueryParams, auth: Authorization | undefined): Service {
  if (auth?.service === "iam" || auth?.service === "sts") return auth.service;
  return params.get("Version") === versions.iam ? "iam" : "sts";
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new AwsError("ValidationError", "Request body too large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function receivedRequest(req: IncomingMessage, body: Buffer): ReceivedRequest {
  const target = req.url ?? "/";
  const q = target.indexOf("?");
  const headers: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
  }
  return {
    method: req.method ?? "GET",
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? "" : target.slice(q + 1),
    headers,
    body,
  };
}

interface Outcome {
  service: Service;
  action: string;
  accessKeyId?: string;
  status: number;
  body: string;
}

async function handle(state: EmulatorState, req: IncomingMessage, requestId: string): Promise<Outcome> {
  let service: Service = "sts";
  let action = "";
  let accessKeyId: string | undefined;
  try {
    const body = await readBody(req);
    const request = receivedRequest(req, body);
    const isForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const params = parseQueryParams(request.query, isForm ? body.toString("utf8") : undefined);
    action = params.get("Action") ?? "";
    const auth = parseAuthorization(request);
    accessKeyId = auth?.accessKeyId;
    service = serviceOf(action) ?? guessService(params, auth);
    const operation = operations[service][action];
    if (operation === undefined) throw unknownAction(params, action);
    let run: () => Promise<Xml[] | undefined>;
    if (operation.signed) {
      const caller = authenticate(state, request, auth, service);
      run = () => operation.run({ params, state, caller });
    } else {
      run = () => operation.run({ params, state });
    }
    checkVersionAndInjectedFailures(state, service, action, params);
    const result = await run();
    return {
      service,
      action,
      status: 200,
      body: renderResult(service, action, result, requestId),
      ...keyOf(accessKeyId),
    };
  } catch (error) {
    const failure = error instanceof AwsError ? error : new AwsError("InternalFailure");
    return {
      service,
      action,
      status: failure.status,
      body: renderError(service, failure, requestId),
      ...keyOf(accessKeyId),
    };
  }
}

function keyOf(accessKeyId: string | undefined): { accessKeyId?: string } {
  return accessKeyId === undefined ? {} : { accessKeyId };
}

function unknownAction(params: QueryParams, action: string): AwsError {
  if (action === "") return new AwsError("MissingAction");
  return new AwsError(
    "InvalidAction",
    `Could not find operation ${action} for version ${params.get("Version") ?? "NULL"}`,
  );
}

/** Checked once the operation is known and its caller accepted. */
function checkVersionAndInjectedFailures(
  state: EmulatorState,
  service: Service,
  action: string,
  params: QueryParams,
): void {
  const version = params.get("Version");
  if (version === undefined) {
    throw new AwsError("MissingParameter", "The request must contain the parameter Version");
  }
  if (version !== versions[service]) {
    throw new AwsError("InvalidAction", `Could not find operation ${action} for version ${version}`);
  }
  const injected = state.takeInjectedFailure(action);
  if (injected !== undefined) throw injected;
}

function send(state: EmulatorState, res: ServerResponse, outcome: Outcome, requestId: string): void {
  const record: RequestRecord = { service: outcome.service, action: outcome.action, status: outcome.status };
  if (outcome.accessKeyId !== undefined) record.accessKeyId = outcome.accessKeyId;
  state.requests.push(record);
  res.writeHead(outcome.status, {
    "x-amzn-RequestId": requestId,
    "Content-Type": "text/xml",
    "Content-Length": Buffer.byteLength(outcome.body),
    Date: new Date(state.now()).toUTCString(),
  });
  res.end(outcome.body);
}

export function createEmulatorServer(state: EmulatorState): Server {
  return createServer((req, res) => {
    const requestId = randomUUID();
    // handle() answers every failure itself; what can still throw is writing to a client that left.
    handle(state, req, requestId)
      .then((outcome) => send(state, res, outcome, requestId))
      .catch(() => res.destroy());
  });
}
