import type { Context, MiddlewareHandler, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../../app/deps";

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;

// Bun errors the body's stream with this message (a plain Error, no code) once a chunked body passes
// Bun.serve's maxRequestBodySize; Bun has answered 413 itself by then.
const BUN_TOO_LARGE = "maxRequestBodySize";

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Read every request body within `maxBody` bytes and parse a form or JSON body once, before any other layer or
 * route reads it: a body over the limit is refused with 413, one that cannot be read or parsed with 400 and a
 * readable message. Routes and the CSRF check then read the parsed body from Hono's cache (`c.req.parseBody()`,
 * `c.req.json()`, @hono/zod-validator), so none of them meets a body it cannot parse. A request without a body
 * passes straight through.
 */
export function bodyLayer(maxBody: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () =>
    new HTTPException(413, { message: `The request is too large (limit ${Math.round(maxBody / 1024)} KiB).` });
  // Reads a body without Content-Length (chunked) in full, counting; one with it is judged by the header.
  const limit = bodyLimit({
    maxSize: maxBody,
    onError: () => {
      throw tooLarge();
    },
  });
  const unreadable = (err: unknown) =>
    err instanceof HTTPException
      ? err
      : reason(err).includes(BUN_TOO_LARGE)
        ? tooLarge()
        : new HTTPException(400, { message: "The request body could not be read. Try again." });

  const parse = async (c: Context<AppEnv>, next: Next) => {
    const type = c.req.header("content-type");
    const media = type?.split(";", 1)[0]!.trim().toLowerCase();
    if (media === "multipart/form-data" || media === "application/x-www-form-urlencoded") {
      const bytes = await c.req.arrayBuffer().catch((err: unknown) => Promise.reject(unreadable(err)));
      const form = new Response(bytes, { headers: { "content-type": type! } }).formData();
      // Where Hono's parseBody and @hono/zod-validator look for a parsed form first (a promise, typed as its value).
      c.req.bodyCache.formData = form as unknown as FormData;
      try {
        await form;
      } catch (err) {
        throw new HTTPException(400, {
          message: `The form could not be read (${reason(err)}). Reload the page and try again.`,
        });
      }
    } else if (media && JSON_TYPE.test(media)) {
      const text = await c.req.text().catch((err: unknown) => Promise.reject(unreadable(err)));
      // Checked here and parsed again from the cached text by c.req.json(): Hono keeps no parsed JSON.
      try {
        JSON.parse(text);
      } catch (err) {
        throw new HTTPException(400, { message: `The request body is not valid JSON (${reason(err)}).` });
      }
    }
    return next();
  };

  return async (c, next) => {
    if (!c.req.raw.body) return next();
    let read = false;
    try {
      return await limit(c, () => {
        read = true;
        return parse(c, next);
      });
    } catch (err) {
      // Before `read`, the error came from reading the body, not from the route.
      throw read ? err : unreadable(err);
    }
  };
}
