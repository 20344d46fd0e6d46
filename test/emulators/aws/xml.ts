// Query-protocol XML documents: `<ActionResponse>` with an optional `<ActionResult>` and
// `<ResponseMetadata>`, and `<ErrorResponse>` for failures, in the service's namespace.
import type { AwsError } from "./errors.js";

export type Service = "sts" | "iam";

const namespaces: Record<Service, string> = {
  sts: "https://sts.amazonaws.com/doc/2011-06-15/",
  iam: "https://iam.amazonaws.com/doc/2010-05-08/",
};

/** Markup that is already escaped; plain strings passed to `el` are text and get escaped. */
export interface Xml {
  readonly markup: string;
}

// Only what text content requires; AWS leaves quotes as they are, and messages are full of them.
const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

function escapeXml(text: string): string {
  return text.replace(/[&<>]/g, (c) => entities[c] ?? c);
}

export function el(name: string, ...children: ReadonlyArray<Xml | string | undefined>): Xml {
  const inner = children
    .filter((child) => child !== undefined)
    .map((child) => (typeof child === "string" ? escapeXml(child) : child.markup))
    .join("");
  return { markup: inner === "" ? `<${name}/>` : `<${name}>${inner}</${name}>` };
}

/** A list in the query protocol's default shape: `<Name><member>…</member></Name>`. */
export function memberList(name: string, items: readonly string[]): Xml {
  return el(name, ...items.map((item) => el("member", item)));
}

function metadata(requestId: string): Xml {
  return el("ResponseMetadata", el("RequestId", requestId));
}

export function renderResult(
  service: Service,
  action: string,
  result: readonly Xml[] | undefined,
  requestId: string,
): string {
  const body = [result === undefined ? undefined : el(`${action}Result`, ...result), metadata(requestId)]
    .filter((part) => part !== undefined)
    .map((part) => part.markup)
    .join("");
  return `<${action}Response xmlns="${namespaces[service]}">${body}</${action}Response>\n`;
}

export function renderError(service: Service, error: AwsError, requestId: string): string {
  const detail = el("Error", el("Type", error.type), el("Code", error.code), el("Message", error.message));
  return `<ErrorResponse xmlns="${namespaces[service]}">${detail.markup}${el("RequestId", requestId).markup}</ErrorResponse>\n`;
}
