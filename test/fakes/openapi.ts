/** Validate fakes' JSON against the real services' OpenAPI documents (3.0 and 3.1), so a fake cannot drift. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";

/**
 * The shared contracts directory: `../shared/specs` relative to the repository root, or one level further up for a
 * checkout kept in a folder of worktrees (`<root>/wt/<name>` beside `<root>/shared`).
 */
export const SPECS_DIR =
  [resolve(import.meta.dir, "../..", "../shared/specs"), resolve(import.meta.dir, "../..", "../../shared/specs")].find(
    (dir) => existsSync(dir),
  ) ?? resolve(import.meta.dir, "../..", "../shared/specs");

/** An OpenAPI document ready for validation; patch `document` only through patchSchema. */
export interface OpenApiSpec {
  file: string;
  /** The `openapi` field, e.g. "3.1.1" or "3.0.2". */
  version: string;
  document: Record<string, unknown>;
}

interface Compiled {
  ajv: Ajv;
  validators: Map<string, ValidateFunction>;
}

const DOCUMENT_ID = "openapi.json";
const compiled = new WeakMap<OpenApiSpec, Compiled>();

/** Return the path of a file in the shared specs directory, or undefined when it is absent. */
export function findSpec(name: string): string | undefined {
  const file = resolve(SPECS_DIR, name);
  return existsSync(file) ? file : undefined;
}

/** Load an OpenAPI document (YAML or JSON); 3.0 schemas are rewritten to JSON Schema (`nullable`, exclusive bounds). */
export async function loadSpec(file: string): Promise<OpenApiSpec> {
  const text = await Bun.file(file).text();
  const parsed: unknown = file.endsWith(".json") ? JSON.parse(text) : Bun.YAML.parse(text);
  if (!isObject(parsed) || typeof parsed.openapi !== "string" || !isObject(parsed.paths)) {
    throw new Error(`openapi: ${file} is not an OpenAPI document`);
  }
  const version = parsed.openapi;
  const document = version.startsWith("3.0") ? (convert30(parsed) as Record<string, unknown>) : parsed;
  return { file, version, document };
}

/**
 * Replace the schema at a JSON pointer (e.g. "/components/schemas/LibrarySection/properties/hidden"), for the
 * rare place where the document is wrong about what the real service sends. Returns the replaced schema.
 */
export function patchSchema(spec: OpenApiSpec, pointer: string, replacement: unknown): unknown {
  if (compiled.has(spec)) throw new Error("openapi: patch the spec before the first validation");
  const parts = pointer.split("/").slice(1).map(unescapePointer);
  const last = parts.pop();
  let node: unknown = spec.document;
  for (const part of parts) node = isObject(node) ? node[part] : undefined;
  if (!isObject(node) || last === undefined || !(last in node)) {
    throw new Error(`openapi: ${pointer} does not exist in ${spec.file}`);
  }
  const previous = node[last];
  node[last] = replacement;
  return previous;
}

/** Validate a response body against the spec; returns readable errors, empty when the body is valid. */
export function validateResponse(
  spec: OpenApiSpec,
  method: string,
  pathTemplate: string,
  status: number,
  body: unknown,
): string[] {
  const where = `${method.toUpperCase()} ${pathTemplate} ${status}`;
  const operation = findOperation(spec, method, pathTemplate);
  if (typeof operation === "string") return [operation];
  const responses = operation.node.responses;
  if (!isObject(responses)) return [`openapi: ${where}: the operation declares no responses`];
  const statusKey = [String(status), `${Math.floor(status / 100)}XX`, "default"].find((k) => k in responses);
  if (statusKey === undefined) return [`openapi: ${where}: status not declared`];
  const response = deref(spec, responses[statusKey], [...operation.pointer, "responses", statusKey]);
  return validateContent(spec, where, response, body);
}

/** Validate a JSON request body against the spec (what a client sends); returns readable errors. */
export function validateRequestBody(spec: OpenApiSpec, method: string, pathTemplate: string, body: unknown): string[] {
  const where = `${method.toUpperCase()} ${pathTemplate} request`;
  const operation = findOperation(spec, method, pathTemplate);
  if (typeof operation === "string") return [operation];
  if (operation.node.requestBody === undefined) return [`openapi: ${where}: the operation takes no body`];
  const requestBody = deref(spec, operation.node.requestBody, [...operation.pointer, "requestBody"]);
  return validateContent(spec, where, requestBody, body);
}

interface Located {
  node: Record<string, unknown>;
  pointer: string[];
}

function findOperation(spec: OpenApiSpec, method: string, pathTemplate: string): Located | string {
  const paths = spec.document.paths as Record<string, unknown>;
  const item = paths[pathTemplate];
  const m = method.toLowerCase();
  if (!isObject(item)) return `openapi: ${pathTemplate} is not in ${spec.file}`;
  const op = item[m];
  if (!isObject(op)) return `openapi: ${method.toUpperCase()} ${pathTemplate} is not in ${spec.file}`;
  return { node: op, pointer: ["paths", pathTemplate, m] };
}

/** Follow `$ref`s between response/request objects (schemas inside are left to ajv). */
function deref(spec: OpenApiSpec, node: unknown, pointer: string[]): Located {
  let current = node;
  let at = pointer;
  for (let hops = 0; hops < 10 && isObject(current) && typeof current.$ref === "string"; hops++) {
    const ref = current.$ref;
    if (!ref.startsWith("#/")) throw new Error(`openapi: external $ref ${ref} is not supported`);
    at = ref.slice(2).split("/").map(unescapePointer);
    current = at.reduce<unknown>((n, part) => (isObject(n) ? n[part] : undefined), spec.document);
  }
  if (!isObject(current)) throw new Error(`openapi: nothing at #/${at.join("/")} in ${spec.file}`);
  return { node: current, pointer: at };
}

function validateContent(spec: OpenApiSpec, where: string, target: Located, body: unknown): string[] {
  const content = target.node.content;
  if (!isObject(content) || Object.keys(content).length === 0) {
    return body === undefined || body === null || body === "" ? [] : [`openapi: ${where}: declares no body`];
  }
  const type =
    Object.keys(content).find((t) => t === "application/json") ?? Object.keys(content).find((t) => /json/.test(t));
  if (type === undefined) return [`openapi: ${where}: declares no JSON body (${Object.keys(content).join(", ")})`];
  const media = content[type];
  if (!isObject(media) || media.schema === undefined) return [];
  const validate = validatorFor(spec, [...target.pointer, "content", type, "schema"]);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${where}: ${formatError(e)}`);
}

function validatorFor(spec: OpenApiSpec, pointer: string[]): ValidateFunction {
  let state = compiled.get(spec);
  if (!state) {
    const options: Options = {
      strict: false,
      allErrors: true,
      validateSchema: false,
      // OpenAPI's own formats; the numeric ones are ranges the JSON type already covers well enough.
      formats: {
        int32: { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
        int64: { type: "number", validate: (n: number) => Number.isInteger(n) },
        float: true,
        double: true,
        byte: true,
        binary: true,
        password: true,
        date: /^\d{4}-\d{2}-\d{2}$/,
        "date-time": /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i,
        email: /^[^\s@]+@[^\s@]+$/,
        uri: /^[a-z][a-z0-9+.-]*:/i,
        url: /^[a-z][a-z0-9+.-]*:/i,
        uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      },
    };
    const ajv = spec.version.startsWith("3.0") ? new Ajv(options) : new Ajv2020(options);
    ajv.addSchema(spec.document, DOCUMENT_ID);
    state = { ajv, validators: new Map() };
    compiled.set(spec, state);
  }
  const ref = `${DOCUMENT_ID}#/${pointer.map((p) => encodeURIComponent(escapePointer(p))).join("/")}`;
  let validate = state.validators.get(ref);
  if (!validate) {
    validate = state.ajv.compile({ $ref: ref });
    state.validators.set(ref, validate);
  }
  return validate;
}

function formatError(e: ErrorObject): string {
  const at = e.instancePath === "" ? "(root)" : e.instancePath;
  const params = e.params as Record<string, unknown>;
  let detail = "";
  if (e.keyword === "enum") detail = ` ${JSON.stringify(params.allowedValues)}`;
  if (e.keyword === "additionalProperties") detail = ` (${String(params.additionalProperty)})`;
  return `${at} ${e.message ?? e.keyword}${detail}`;
}

/** Rewrite OpenAPI 3.0 schema dialect into JSON Schema: `nullable` and boolean exclusive bounds. */
function convert30(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert30);
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = convert30(v);
  for (const [flag, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (typeof out[flag] === "boolean") {
      if (out[flag] === true && typeof out[bound] === "number") {
        out[flag] = out[bound];
        delete out[bound];
      } else {
        delete out[flag];
      }
    }
  }
  // A property *named* "nullable" holds a schema object, never `true`, so this only matches the keyword.
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: "null" }] };
  }
  if (out.nullable === false) delete out.nullable;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function escapePointer(s: string): string {
  return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, "/").replace(/~0/g, "~");
}
