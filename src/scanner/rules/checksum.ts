// The checksum of GitHub's and npm's token formats: CRC32 (IEEE, as zlib computes it) of the
// random part, written in base62 (`0-9A-Za-z`) and left-padded with `0` to 6 characters.

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC32 of the latin1 characters of `text`. */
function crc32(text: string): number {
  let crc = -1;
  for (let i = 0; i < text.length; i++) {
    crc = (CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ -1) >>> 0;
}

function base62(value: number, width: number): string {
  let out = "";
  let rest = value;
  while (rest > 0) {
    out = BASE62.charAt(rest % 62) + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, "0");
}

/** Whether the last 6 characters of `body` are the checksum of the characters before them. */
export function hasValidChecksum(body: string): boolean {
  const random = body.slice(0, -6);
  return base62(crc32(random), 6) === body.slice(-6);
}
