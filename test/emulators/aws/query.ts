// The query protocol's parameters: flat `Name=value` pairs from the query string (GET) and the
// form body (POST), with lists flattened as `Name.member.N` / `Name.member.N.Field`. SDKs send an
// empty list as a bare `Name=` (observed: `PolicyArns=&Tags=&TransitiveTagKeys=`), which is a
// present-but-empty list, not a value.

export class QueryParams {
  readonly #values: ReadonlyMap<string, string>;

  constructor(values: ReadonlyMap<string, string>) {
    this.#values = values;
  }

  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  /** A list of strings, or undefined when the parameter was not sent at all. */
  strings(name: string): string[] | undefined {
    const members = this.#members(name);
    if (members === undefined) return undefined;
    return members.map(([, rest]) => rest.get("") ?? "");
  }

  /** A list of structures; each member maps field name to value (absent fields are undefined). */
  structures<F extends string>(
    name: string,
    fields: readonly F[],
  ): Array<Record<F, string | undefined>> | undefined {
    const members = this.#members(name);
    if (members === undefined) return undefined;
    return members.map(([, rest]) => {
      const entry = {} as Record<F, string | undefined>;
      for (const field of fields) entry[field] = rest.get(field);
      return entry;
    });
  }

  #members(name: string): Array<[number, Map<string, string>]> | undefined {
    const prefix = `${name}.member.`;
    const byIndex = new Map<number, Map<string, string>>();
    for (const [key, value] of this.#values) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const dot = rest.indexOf(".");
      const index = Number(dot < 0 ? rest : rest.slice(0, dot));
      if (!Number.isInteger(index) || index < 1) continue;
      const fields = byIndex.get(index) ?? new Map<string, string>();
      fields.set(dot < 0 ? "" : rest.slice(dot + 1), value);
      byIndex.set(index, fields);
    }
    if (byIndex.size === 0) return this.#values.has(name) ? [] : undefined;
    return [...byIndex.entries()].sort(([a], [b]) => a - b);
  }
}

function addPairs(target: Map<string, string>, encoded: string): void {
  for (const [key, value] of new URLSearchParams(encoded)) {
    if (!target.has(key)) target.set(key, value);
  }
}

/**
 * `formBody` is the body of a form-encoded POST (undefined for anything else); its parameters win
 * over query-string ones of the same name.
 */
export function parseQueryParams(rawQuery: string, formBody: string | undefined): QueryParams {
  const values = new Map<string, string>();
  if (formBody !== undefined) addPairs(values, formBody);
  addPairs(values, rawQuery);
  return new QueryParams(values);
}
