import { Counter, Histogram, Registry } from "prom-client";

// Labels are drawn from small fixed sets (route templates, provider kinds, outcome words):
// never a session id, client key, token or any value a caller chooses.

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<"listener" | "route" | "method" | "status">;
  readonly requestSeconds: Histogram<"listener" | "route" | "method">;
  readonly authFailures: Counter<"listener" | "reason">;
  readonly credentialsIssued: Counter<"provider">;
  readonly credentialsRevoked: Counter<"provider" | "outcome">;
  readonly leaksDetected: Counter<"source">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: "latchkey_http_requests_total",
      help: "HTTP requests by listener, route template, method and status",
      labelNames: ["listener", "route", "method", "status"],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: "latchkey_http_request_duration_seconds",
      help: "HTTP request latency by listener and route template",
      labelNames: ["listener", "route", "method"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: "latchkey_auth_failures_total",
      help: "Refused authentication attempts by listener and reason",
      labelNames: ["listener", "reason"],
      registers: [registry],
    }),
    credentialsIssued: new Counter({
      name: "latchkey_credentials_issued_total",
      help: "Credentials minted by provider",
      labelNames: ["provider"],
      registers: [registry],
    }),
    credentialsRevoked: new Counter({
      name: "latchkey_credential_revocations_total",
      help: "Revocation attempts by provider and outcome",
      labelNames: ["provider", "outcome"],
      registers: [registry],
    }),
    leaksDetected: new Counter({
      name: "latchkey_leaks_detected_total",
      help: "Secrets found by the leak scanner, by where the scan came from",
      labelNames: ["source"],
      registers: [registry],
    }),
  };
}
