import type { QueryParams } from "./query.js";
import type { Caller, EmulatorState } from "./state.js";
import type { Xml } from "./xml.js";

export interface UnsignedContext {
  readonly params: QueryParams;
  readonly state: EmulatorState;
}

export interface SignedContext extends UnsignedContext {
  readonly caller: Caller;
}

/** `run` returns the children of `<ActionResult>`, or undefined when the response has no result. */
export type Operation =
  | { readonly signed: true; run(context: SignedContext): Promise<Xml[] | undefined> }
  // The operations SDKs send unsigned (`smithy.api#noAuth`).
  | { readonly signed: false; run(context: UnsignedContext): Promise<Xml[] | undefined> };
