// STS packs the session policy, managed policy ARNs and session tags into a compressed binary
// form with its own limit, and AWS does not publish that format. The emulator approximates it
// with raw DEFLATE (level 9) of the minified policy plus the ARNs, and separately of the tags
// (`key=value` lines), each measured against `limit` bytes. The default of 320 bytes was chosen
// so that a wide, poorly compressible policy fails as practitioners report (a 42-action,
// single-statement policy of about 1,100 characters measures 121%), while a small scoped-down
// policy with a couple of tags stays well under half.
import { deflateRawSync } from "node:zlib";

export const DEFAULT_PACKED_POLICY_LIMIT = 320;

export interface PackedSize {
  /** Percent of the allotted space used by the session policy and policy ARNs. */
  readonly policyPercent: number;
  /** Percent of the allotted space used by the session tags. */
  readonly tagsPercent: number;
  /** Bytes of the packed form, which also make the session token longer. */
  readonly bytes: number;
}

function packedBytes(text: string): number {
  return text === "" ? 0 : deflateRawSync(Buffer.from(text, "utf8"), { level: 9 }).length;
}

export function measurePacked(
  policy: string | undefined,
  policyArns: readonly string[],
  tags: ReadonlyArray<{ readonly key: string; readonly value: string }>,
  limit: number,
): PackedSize {
  const policyText = [policy === undefined ? "" : JSON.stringify(JSON.parse(policy)), ...policyArns]
    .filter((part) => part !== "")
    .join("\n");
  const policyBytes = packedBytes(policyText);
  const tagBytes = packedBytes(tags.map((t) => `${t.key}=${t.value}\n`).join(""));
  return {
    policyPercent: Math.ceil((policyBytes * 100) / limit),
    tagsPercent: Math.ceil((tagBytes * 100) / limit),
    bytes: policyBytes + tagBytes,
  };
}
