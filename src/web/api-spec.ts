/**
 * The JSON API's operations, each declared once: its route, who may call it, the zod schemas of its path, query
 * and body (which the route validates with) and of each answer. The OpenAPI document is generated from the same
 * declarations, so the document cannot say something the routes do not do.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app/deps";
import { type Access, allow } from "../server/access";
import { jsonBody, jsonInput } from "./forms";

/** Every error answer of the API: a readable message, and for bad input each field with its message. */
export const errorSchema = z.object({
  error: z.string().describe("What went wrong, in words to show a person."),
  fields: z
    .record(z.string(), z.string())
    .optional()
    .describe("For 422: each bad field (path parameter, query parameter or body field) with its message."),
});

const ERROR_TEXT: Record<number, string> = {
  400: "The body could not be read (not JSON, or cut short).",
  401: "No valid credentials: no API token, a revoked one, or its user disabled.",
  403: "Not allowed: a missing permission, an admin-only route, Seerr's own refusal, or a browser session's failed CSRF check.",
  404: "Not found, or not yours (another person's download or request reads as absent).",
  409: "The state does not allow it (already requested, not pending, finished already).",
  413: "The body is over the size limit.",
  422: "Bad input: the field is named in `fields`.",
  429: "A rate limit or quota: the message says when to try again.",
  502: "Seerr or Plex failed to answer properly; the message says how.",
  503: "Seerr or Plex is not connected, or the disk or folder cannot take downloads.",
};

/** What one status of an operation answers. */
export interface ApiAnswer {
  description: string;
  schema: z.ZodType;
}

type Method = "get" | "post" | "delete";

/** One operation of the API. */
export interface ApiOperation {
  method: Method;
  /** The route as Hono writes it: `/api/v1/requests/:id`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  /** How a caller proves who it is: a personal API token (default), or a webhook's own secret. */
  auth?: "token" | "webhook";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** False when the route reads its body itself (a webhook checks its secret before reading anything). */
  validateBody?: boolean;
  /** The successful answers. */
  ok: Record<number, ApiAnswer>;
  /** The error statuses this operation can answer besides those every operation of its kind can. */
  errors: number[];
}

/** The routes of the API and their declarations, in the order they were added. */
export interface ApiRoutes {
  app: Hono<AppEnv>;
  operations: ApiOperation[];
  /** Register an operation: the access rule, its validators, then the handler. */
  add(op: ApiOperation, handler: (c: Context<AppEnv>) => Response | Promise<Response>): void;
}

/** Start a table of API routes on a Hono app. */
export function apiRoutesOn(app: Hono<AppEnv>): ApiRoutes {
  const operations: ApiOperation[] = [];
  return {
    app,
    operations,
    add(op, handler) {
      const chain: MiddlewareHandler<AppEnv>[] = [allow(op.access)];
      if (op.params) chain.push(jsonInput("param", op.params));
      if (op.query) chain.push(jsonInput("query", op.query));
      if (op.body && op.validateBody !== false) chain.push(jsonBody(op.body));
      app.on(op.method.toUpperCase(), [op.path], ...chain, handler as MiddlewareHandler<AppEnv>);
      operations.push(op);
    },
  };
}

/** Read what a validator of the operation checked, typed by its schema. */
export function valid<S extends z.ZodType>(c: Context<AppEnv>, target: "param" | "query" | "json", _schema: S) {
  return c.req.valid(target as never) as z.output<S>;
}

/** The statuses an operation can answer without saying so: missing credentials, bad bodies, CSRF, rate limits. */
export function implicitErrors(op: ApiOperation): number[] {
  const out = new Set<number>(op.errors);
  if (op.access !== "public") out.add(401);
  if (op.access === "admin") out.add(403);
  if (op.params || op.query || (op.body && op.validateBody !== false)) out.add(422);
  if (op.method !== "get") {
    out.add(403);
    if (op.body) {
      out.add(400);
      out.add(413);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Turn a Hono route path into an OpenAPI path template: `/a/:id` → `/a/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z][A-Za-z0-9]*)(\{[^}]*\})?/g, "{$1}");
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  const out = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(where: "path" | "query", schema: z.ZodObject | undefined): JsonSchema[] {
  if (!schema) return [];
  const whole = jsonSchema(schema, "input");
  const props = (whole.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((whole.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === "path" || required.has(name),
      ...(typeof description === "string" ? { description } : {}),
      schema: rest,
    };
  });
}

function content(schema: JsonSchema) {
  return { "application/json": { schema } };
}

/** Build the OpenAPI 3.1 document of the operations. */
export function openApiDocument(operations: ApiOperation[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(op.ok))
      responses[status] = { description: answer.description, content: content(jsonSchema(answer.schema, "output")) };
    for (const status of implicitErrors(op))
      responses[String(status)] = {
        description: ERROR_TEXT[status] ?? "An error.",
        content: content({ $ref: "#/components/schemas/Error" }),
      };
    const path = openApiPath(op.path);
    (paths[path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      tags: [op.tag],
      security: op.auth === "webhook" ? [{ webhookSecret: [] }] : op.access === "public" ? [] : [{ apiToken: [] }],
      parameters: [...parameters("path", op.params), ...parameters("query", op.query)],
      ...(op.body ? { requestBody: { required: true, content: content(jsonSchema(op.body, "input")) } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.1",
    info: {
      title: "MediaNest API",
      version: info.version,
      description:
        "Search, titles, requests, the Plex library and downloads as the signed-in person sees them. Authenticate with a personal API token from the account page: `Authorization: Bearer mn_…`. Every error is JSON `{error, fields?}`.",
    },
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, "output") },
      securitySchemes: {
        apiToken: { type: "http", scheme: "bearer", description: "A personal API token (`mn_…`)." },
        webhookSecret: {
          type: "http",
          scheme: "bearer",
          description: "The webhook secret made on the Seerr card (Admin → Integrations).",
        },
      },
    },
  };
}
