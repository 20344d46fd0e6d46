// Aho-Corasick over all rules' keywords, compiled into a DFA the scanner steps once per byte.
// It is built over a small alphabet (bytes folded to lowercase, the characters keywords use, plus
// one class for everything else), then laid out with a row of 256 entries per state, so that a
// step is one table read indexed by state and byte: the read the next step waits for is the only
// one on that path. Most steps stay among a few shallow states, whose rows stay in the L1 cache.
// States are numbered so that every state that ends a keyword comes last: "is this a hit" is one
// comparison.

export interface KeywordAutomaton {
  /** `delta[state << 8 | byte]` is the next state. */
  readonly delta: Uint16Array;
  /** States at or above this one end at least one keyword. */
  readonly acceptFrom: number;
  /** The ids of the keywords that end in `state` (a state at or above acceptFrom). */
  readonly outputs: readonly (readonly number[])[];
}

export function keywordOutputs(automaton: KeywordAutomaton, state: number): readonly number[] {
  return automaton.outputs[state - automaton.acceptFrom] ?? [];
}

export function buildKeywordAutomaton(keywords: readonly string[]): KeywordAutomaton {
  const classes = new Uint8Array(256);
  let width = 1;
  for (const keyword of keywords) {
    if (keyword.length === 0 || !/^[\x20-\x7e]+$/.test(keyword) || keyword !== keyword.toLowerCase()) {
      throw new TypeError(`keyword ${JSON.stringify(keyword)} must be non-empty lowercase printable ASCII`);
    }
    for (let i = 0; i < keyword.length; i++) {
      const code = keyword.charCodeAt(i);
      if (classes[code] === 0) {
        classes[code] = width;
        if (code >= 0x61 && code <= 0x7a) classes[code - 0x20] = width;
        width++;
      }
    }
  }

  // The trie, then failure links breadth first; the DFA row of a node falls back to its failure's.
  const children: Map<number, number>[] = [new Map()];
  const ends: number[][] = [[]];
  keywords.forEach((keyword, id) => {
    let node = 0;
    for (let i = 0; i < keyword.length; i++) {
      const cls = classes[keyword.charCodeAt(i)] as number;
      let next = children[node]?.get(cls);
      if (next === undefined) {
        next = children.length;
        children.push(new Map());
        ends.push([]);
        children[node]?.set(cls, next);
      }
      node = next;
    }
    ends[node]?.push(id);
  });
  const count = children.length;
  const rows = new Int32Array(count * width);
  const fail = new Int32Array(count);
  const queue: number[] = [];
  for (let cls = 0; cls < width; cls++) {
    const child = children[0]?.get(cls);
    if (child !== undefined) queue.push(child);
    rows[cls] = child ?? 0;
  }
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as number;
    for (let cls = 0; cls < width; cls++) {
      const child = children[node]?.get(cls);
      const fallback = rows[(fail[node] as number) * width + cls] as number;
      if (child === undefined) {
        rows[node * width + cls] = fallback;
        continue;
      }
      fail[child] = fallback;
      ends[child]?.push(...(ends[fallback] ?? []));
      rows[node * width + cls] = child;
      queue.push(child);
    }
  }

  // Renumber: non-accepting states first (the root stays 0), accepting states after.
  const accepting = (state: number) => (ends[state]?.length ?? 0) > 0;
  const order = [...Array(count).keys()].sort((a, b) => Number(accepting(a)) - Number(accepting(b)) || a - b);
  const renamed = new Int32Array(count);
  order.forEach((old, index) => {
    renamed[old] = index;
  });
  if (count > 0xffff) {
    throw new TypeError(
      `${keywords.length} keywords make ${count} automaton states, more than 16-bit states allow`,
    );
  }
  const delta = new Uint16Array(count * 256);
  for (let old = 0; old < count; old++) {
    for (let byte = 0; byte < 256; byte++) {
      delta[((renamed[old] as number) << 8) | byte] = renamed[
        rows[old * width + (classes[byte] as number)] as number
      ] as number;
    }
  }
  const firstAccepting = order.findIndex(accepting);
  const acceptFrom = firstAccepting < 0 ? count : firstAccepting;
  return {
    delta,
    acceptFrom,
    outputs: order.slice(acceptFrom).map((old) => ends[old] ?? []),
  };
}
