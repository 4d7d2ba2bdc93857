import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { isFragmentRequest, isHtmxRequest, redirect, retarget } from "./htmx";

const app = new Hono();
app.get("/ask", (c) => c.json({ htmx: isHtmxRequest(c), fragment: isFragmentRequest(c) }));
app.post("/go", (c) => redirect(c, "/next?x=1"));
app.get("/guard", (c) => redirect(c, "/login", 401));
app.get("/alert", (c) => {
  retarget(c, "#alerts", "innerHTML");
  return c.text("no");
});

const ask = async (headers: Record<string, string>) => (await app.request("/ask", { headers })).json();

describe("htmx requests and answers", () => {
  test("a request is htmx's only with HX-Request: true, and a fragment only when htmx targets part of the page", async () => {
    expect(await ask({})).toEqual({ htmx: false, fragment: false });
    expect(await ask({ "HX-Request": "false" })).toEqual({ htmx: false, fragment: false });
    expect(await ask({ "HX-Request": "true" })).toEqual({ htmx: true, fragment: true });
    expect(await ask({ "HX-Request": "true", "HX-Request-Type": "partial" })).toEqual({ htmx: true, fragment: true });
    // hx-select or a swap of the whole body: htmx wants the whole page and picks from it.
    expect(await ask({ "HX-Request": "true", "HX-Request-Type": "full" })).toEqual({ htmx: true, fragment: false });
    expect(await ask({ "HX-Request": "true", "HX-Boosted": "true" })).toEqual({ htmx: true, fragment: false });
  });

  test("a redirect is HX-Redirect with an empty body for htmx and a 303 for a browser", async () => {
    const plain = await app.request("/go", { method: "POST" });
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe("/next?x=1");
    expect(plain.headers.get("hx-redirect")).toBeNull();

    const htmx = await app.request("/go", { method: "POST", headers: { "HX-Request": "true" } });
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get("hx-redirect")).toBe("/next?x=1");
    expect(htmx.headers.get("location")).toBeNull();
    expect(await htmx.text()).toBe("");

    const guarded = await app.request("/guard", { headers: { "HX-Request": "true" } });
    expect(guarded.status).toBe(401);
    expect(guarded.headers.get("hx-redirect")).toBe("/login");
    expect((await app.request("/guard")).status).toBe(303);
  });

  test("retarget names the element and the swap style", async () => {
    const res = await app.request("/alert");
    expect(res.headers.get("hx-retarget")).toBe("#alerts");
    expect(res.headers.get("hx-reswap")).toBe("innerHTML");
  });
});
