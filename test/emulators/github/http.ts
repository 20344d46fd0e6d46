// What every answer carries, and the small I/O helpers the server needs.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { GithubError } from "./errors.js";

export interface JsonReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const jsonContentType = "application/json; charset=utf-8";

/** GitHub's ISO form without milliseconds: 2026-11-27T10:00:00Z. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function errorReply(error: GithubError): JsonReply {
  return error.headers === undefined
    ? { status: error.status, body: error.body }
    : { status: error.status, body: error.body, headers: error.headers };
}

/** `Date` follows the emulator's clock: auth-app corrects its JWT clock skew from it. */
export function githubHeaders(nowMs: number): Record<string, string> {
  const hex = (bytes: number) => randomBytes(bytes).toString("hex").toUpperCase();
  return {
    date: new Date(nowMs).toUTCString(),
    "x-github-request-id": `${hex(2)}:${hex(2)}:${hex(4).slice(1)}:${hex(4).slice(1)}:${hex(4)}`,
  };
}

export function sendJson(res: ServerResponse, reply: JsonReply, headers: Record<string, string>): void {
  const body = reply.body === undefined ? "" : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...headers,
    ...reply.headers,
    "content-type": jsonContentType,
    "x-github-media-type": "github.v3; format=json",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string>,
): void {
  res.writeHead(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
