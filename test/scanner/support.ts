import { Writable } from "node:stream";
import type { Finding } from "../../src/scanner/finding.js";

/** The bytes cut into chunks of `size`. */
export function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

/** The bytes cut at each of `cuts` (byte offsets), in any order. */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Yields the chunks one at a time, as a stream would. */
export async function* streamed(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/** A writable that keeps what it is given. */
export class Sink extends Writable {
  readonly parts: Buffer[] = [];
  written = 0;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.parts.push(chunk);
    this.written += chunk.length;
    done();
  }

  text(): string {
    return Buffer.concat(this.parts).toString("utf8");
  }
}

/** A finding reduced to what must not depend on chunking. */
export function key(finding: Finding): string {
  return `${finding.ruleId}@${finding.offset}+${finding.length}:${finding.line}:${finding.column}:${finding.fingerprint}`;
}
