import { type Hook, zValidator } from "@hono/zod-validator";
import type { Context, MiddlewareHandler, Next } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import type { FieldErrors, FormValues } from "../../views/components/form";
import type { AppEnv } from "../app/deps";

export type { FieldErrors, FormValues };

/** What a route answers when its form does not parse: as a rule the same view with the errors and status 422. */
export type OnInvalid = (c: Context<AppEnv>, errors: FieldErrors, values: FormValues) => Response | Promise<Response>;

type Issues = { issues: readonly { path: readonly PropertyKey[]; message: string }[] };

/** One message per field (its first issue), "_form" for the form as a whole. */
export function fieldErrors(error: Issues): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) errors[String(issue.path[0] ?? "_form")] ??= issue.message;
  return errors;
}

/** A form's fields as the schemas see them: repeated keys become arrays, files and `_csrf` are left out. */
function fields(raw: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === "_csrf") continue;
    const list = [v].flat().filter((x): x is string => typeof x === "string");
    if (list.length) out[k] = list.length === 1 ? list[0]! : list;
  }
  return out;
}

function asValues(raw: Record<string, string | string[]>): FormValues {
  const values: FormValues = {};
  for (const [k, v] of Object.entries(raw)) values[k] = Array.isArray(v) ? v.join(",") : v;
  return values;
}

const typedValues = new WeakMap<Context, FormValues>();

/** What the user typed into the form `form()` validated, to show again beside a service's refusal. */
export function formValues(c: Context<AppEnv>): FormValues {
  return typedValues.get(c) ?? {};
}

// Without a view to show the errors in, the error handler answers 422 naming the first field.
const refuse: OnInvalid = (_c, errors) => {
  const [field, message] = Object.entries(errors)[0]!;
  throw new HTTPException(422, { message: `${field}: ${message}` });
};

/**
 * Validate a urlencoded or multipart form with a zod schema before the handler (`c.req.valid("form")`); a form that
 * fails goes to `onInvalid` with one message per field (without one: 422 naming the field). A body that cannot be parsed never gets here: the body
 * layer has answered 400.
 */
export function form<S extends z.ZodType>(schema: S, onInvalid: OnInvalid = refuse) {
  return zValidator<S, "form", AppEnv, string, Hook<z.infer<S>, AppEnv, string, "form", {}, S>>(
    "form",
    schema,
    (result, c) => {
      // The validation function below hands the cleaned fields through with zod's answer.
      const values = asValues((result as unknown as { fields: Record<string, string | string[]> }).fields);
      typedValues.set(c, values);
      if (!result.success) return onInvalid(c, fieldErrors(result.error), values);
    },
    {
      validationFunction: async (s, value) => {
        const clean = fields(value);
        return Object.assign(await s.safeParseAsync(clean), { fields: clean }) as never;
      },
    },
  );
}

// A JSON caller gets every bad field named, and the first one in `error` to read.
function refuseJson(c: Context<AppEnv>, error: Issues) {
  const errors = fieldErrors(error);
  const first = Object.entries(errors)[0]!;
  return c.json({ error: `${first[0]}: ${first[1]}`, fields: errors }, 422);
}

/** Validate a JSON body with a zod schema before the handler (`c.req.valid("json")`); 422 naming each bad field. */
export function jsonBody<S extends z.ZodType>(schema: S) {
  return zValidator<S, "json", AppEnv, string, Hook<z.infer<S>, AppEnv, string, "json", {}, S>>(
    "json",
    schema,
    (result, c) => (result.success ? undefined : refuseJson(c, result.error)),
  );
}

/**
 * Validate an API call's query string or path parameters with a zod schema (`c.req.valid("query" | "param")`);
 * 422 with `{error, fields}` naming each bad one, like a JSON body.
 */
export function jsonInput<S extends z.ZodType, T extends "query" | "param">(target: T, schema: S) {
  return zValidator<S, T, AppEnv, string, Hook<z.infer<S>, AppEnv, string, T, {}, S>>(target, schema, (result, c) =>
    result.success ? undefined : refuseJson(c, result.error),
  );
}

/** Run `run` behind the validator `check`, for one address whose forms differ by a field (a step, an action). */
export function withForm(
  check: MiddlewareHandler<AppEnv>,
  c: Context<AppEnv>,
  run: (c: Context<AppEnv>) => Promise<Response>,
): Promise<Response> {
  // The validator hands over by calling next(); its answer is the handler's.
  return check(c, (() => run(c)) as unknown as Next) as Promise<Response>;
}

/** The page of a list a request asks for (?page=, from 1); anything else is the first. */
export function pageOf(c: Context<AppEnv>): number {
  const n = Number(c.req.query("page"));
  return Number.isInteger(n) && n > 0 && n < 100_000 ? n : 1;
}
