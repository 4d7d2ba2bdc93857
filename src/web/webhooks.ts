import { Hono } from "hono";
import type { AppEnv } from "../app/deps";
import { allow } from "../server/access";
import {
  handleSeerrWebhook,
  SEERR_WEBHOOK_PATH,
  webhookAuthorized,
  webhookPayloadSchema,
} from "../services/seerr-webhook";

/** Webhooks other servers post to; each proves itself with its own secret, not a session. */
export function webhookRoutes() {
  const app = new Hono<AppEnv>();
  // Seerr's webhook agent: Authorization as configured there, its JSON template in the body.
  app.post(SEERR_WEBHOOK_PATH, allow("public"), async (c) => {
    const deps = c.get("deps");
    if (!(await webhookAuthorized(deps, c.req.header("authorization"))))
      return c.json({ error: "The Authorization header does not carry MediaNest's webhook secret." }, 401);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "The body is not JSON." }, 400);
    }
    const parsed = webhookPayloadSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") || "body";
      return c.json({ error: `Malformed payload: ${field}: ${issue?.message ?? "invalid"}` }, 400);
    }
    const outcome = await handleSeerrWebhook(deps, parsed.data);
    return c.json({ ok: true, ...outcome });
  });
  return app;
}
