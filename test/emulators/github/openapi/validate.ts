// Checks response bodies against GitHub's published schemas (extracted by extract.ts), so the
// emulator's answers are held to the real API's contract rather than to its own idea of it.
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { OperationId } from "./operations.js";
import { type ExtractedSchemas, loadExtractedSchemas } from "./schemas.js";

// ajv-formats is CommonJS with an `exports.default`; under NodeNext its default import is the module.
const addFormats = addFormatsModule.default;

const schemaId = "github";

export interface ResponseValidator {
  readonly version: string;
  /** Ajv's error list for the body, empty when it is valid. A status the operation does not
   * declare is held to GitHub's generic error shapes (`validation-error` for 422). */
  check(operationId: OperationId, status: number, body: unknown): string[];
  /** The same check against one named component schema. */
  checkComponent(name: string, body: unknown): string[];
}

export function createResponseValidator(
  schemas: ExtractedSchemas = loadExtractedSchemas(),
): ResponseValidator {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: schemaId, operations: schemas.operations, components: schemas.components });
  const compiled = new Map<string, ValidateFunction>();

  const run = (pointer: string, body: unknown): string[] => {
    let validate = compiled.get(pointer);
    if (validate === undefined) {
      validate = ajv.compile({ $ref: `${schemaId}#${pointer}` });
      compiled.set(pointer, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`);
  };

  return {
    version: schemas.source.version,
    check(operationId, status, body) {
      const declared = schemas.operations[operationId].responses[String(status)];
      if (declared === null) return body === undefined ? [] : [`${operationId} ${status} has no body`];
      if (declared !== undefined)
        return run(`/operations/${escapePointer(operationId)}/responses/${status}`, body);
      return run(`/components/schemas/${status === 422 ? "validation-error" : "basic-error"}`, body);
    },
    checkComponent(name, body) {
      return run(`/components/schemas/${escapePointer(name)}`, body);
    },
  };
}

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}
