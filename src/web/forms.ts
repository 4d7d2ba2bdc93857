import type { Context } from "hono";
import type { z } from "zod";
import type { FieldErrors, FormValues } from "../../views/components/form";
import type { AppEnv } from "../app/deps";

export type { FieldErrors, FormValues };

export type FormResult<T> =
  | { ok: true; data: T; values: FormValues }
  | { ok: false; errors: FieldErrors; values: FormValues };

/** Read a urlencoded or multipart form into plain values; repeated keys become arrays, files are ignored. */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, string | string[]>> {
  const type = c.req.header("content-type") ?? "";
  if (!/form-data|x-www-form-urlencoded/.test(type)) return {};
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === "_csrf") continue;
    const list = [v].flat().filter((x): x is string => typeof x === "string");
    out[k] = list.length === 1 ? list[0]! : list;
  }
  return out;
}

/** Parse the request's form with a zod schema; on failure return one message per field (the first issue). */
export async function parseForm<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<FormResult<z.output<S>>> {
  const raw = await readForm(c);
  const values: FormValues = {};
  for (const [k, v] of Object.entries(raw)) values[k] = Array.isArray(v) ? v.join(",") : v;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? "_form");
    errors[field] ??= issue.message;
  }
  return { ok: false, errors, values };
}
