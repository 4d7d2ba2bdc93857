import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { AppEnv } from "../app/deps";
import { form, formValues, jsonBody } from "./forms";

function app() {
  const a = new Hono<AppEnv>();
  a.onError((err, c) => (err instanceof HTTPException ? c.text(err.message, err.status) : c.text("boom", 500)));
  const schema = z.object({ name: z.string().min(1, "Name it."), tags: z.array(z.string()).optional() });
  a.post(
    "/form",
    form(schema, (c, errors, values) => c.json({ errors, values }, 422)),
    (c) => c.json({ data: c.req.valid("form"), values: formValues(c) }),
  );
  a.post("/bare", form(z.object({ n: z.coerce.number().int("A whole number.") })), (c) => c.json(c.req.valid("form")));
  a.post("/json", jsonBody(z.object({ n: z.number({ error: "A number." }), s: z.string().optional() })), (c) =>
    c.json(c.req.valid("json")),
  );
  return a;
}

const post = (path: string, body: BodyInit, type?: string) =>
  app().request(path, { method: "POST", body, headers: type ? { "content-type": type } : {} });

describe("form()", () => {
  test("repeated keys become arrays; _csrf and files are left out; values are what was typed", async () => {
    const fd = new FormData();
    fd.append("name", "x");
    fd.append("tags", "a");
    fd.append("tags", "b");
    fd.append("_csrf", "secret");
    fd.append("upload", new File(["hi"], "f.txt"));
    const res = await post("/form", fd);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { name: "x", tags: ["a", "b"] }, values: { name: "x", tags: "a,b" } });
  });

  test("a failing form goes to its view with one message per field and the values", async () => {
    const res = await post("/form", "name=&_csrf=t", "application/x-www-form-urlencoded");
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ errors: { name: "Name it." }, values: { name: "" } });
  });

  test("without a view, a failing form is a 422 naming the field", async () => {
    const res = await post("/bare", "n=1.5", "application/x-www-form-urlencoded");
    expect(res.status).toBe(422);
    expect(await res.text()).toBe("n: A whole number.");
  });
});

describe("jsonBody()", () => {
  test("a valid body reaches the handler", async () => {
    const res = await post("/json", JSON.stringify({ n: 2 }), "application/json");
    expect(await res.json()).toEqual({ n: 2 });
  });

  test("a bad field is a 422 with the field named", async () => {
    const res = await post("/json", JSON.stringify({ n: "2", s: 3 }), "application/json");
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: string; fields: Record<string, string> };
    expect(body.fields.n).toBe("A number.");
    expect(Object.keys(body.fields).sort()).toEqual(["n", "s"]);
    expect(body.error).toStartWith("n: ");
  });

  test("a body that is not JSON at all has no fields", async () => {
    const res = await post("/json", "n=2", "application/x-www-form-urlencoded");
    expect(res.status).toBe(422);
  });
});
