// Character tests on latin1 window text, where one character is one input byte.

export function isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** `[A-Za-z0-9_]`, the characters that continue an identifier or a token. */
export function isWordChar(code: number): boolean {
  return code === 0x5f || isAlnum(code);
}

/** `[A-Za-z0-9_-]`, base64url's alphabet. */
export function isBase64UrlChar(code: number): boolean {
  return code === 0x2d || isWordChar(code);
}

/** `[A-Za-z0-9+/]`, base64's alphabet without padding. */
export function isBase64Char(code: number): boolean {
  return code === 0x2b || code === 0x2f || isAlnum(code);
}

/** The character before `index` is not one of `continues` (or there is none). */
export function startsToken(text: string, index: number, continues: (code: number) => boolean): boolean {
  return index === 0 || !continues(text.charCodeAt(index - 1));
}

/** The character at `index` is not one of `continues` (or the text ends there). */
export function endsToken(text: string, index: number, continues: (code: number) => boolean): boolean {
  return index >= text.length || !continues(text.charCodeAt(index));
}

/** Shannon entropy of the string, in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** Runs a sticky regex at `index` (the regex must carry the `y` flag). */
export function matchAt(sticky: RegExp, text: string, index: number): RegExpExecArray | null {
  sticky.lastIndex = index;
  return sticky.exec(text);
}
