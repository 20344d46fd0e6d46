import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Metrics } from "./metrics.js";

const callerRequestId = /^[A-Za-z0-9._-]{8,64}$/;

/** Request ids: a caller's well-formed `x-request-id` is kept for tracing, anything else replaced. */
export const requestIds: Pick<FastifyServerOptions, "genReqId" | "requestIdHeader"> = {
  requestIdHeader: false,
  genReqId: (req) => {
    const given = req.headers["x-request-id"];
    return typeof given === "string" && callerRequestId.test(given) ? given : randomUUID();
  },
};

/** Request counts and latency by route template (never the raw path), and the request id on every answer. */
export function instrument(app: FastifyInstance, metrics: Metrics, listener: string): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const labels = { listener, route, method: request.method };
    metrics.requests.inc({ ...labels, status: String(reply.statusCode) });
    metrics.requestSeconds.observe(labels, reply.elapsedTime / 1000);
  });
}
