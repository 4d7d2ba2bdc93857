import { z } from "zod";
import {
  handleSeerrWebhook,
  SEERR_WEBHOOK_PATH,
  webhookAuthorized,
  webhookPayloadSchema,
} from "../services/seerr-webhook";
import type { ApiOperation, ApiRoutes } from "./api-spec";

const deliverySchema = z.object({
  ok: z.literal(true),
  kind: z.enum(["test", "ignored", "followed"]),
  reason: z.string().optional(),
  changed: z.int().optional(),
  adopted: z.int().optional(),
  removed: z.int().optional(),
});

/** Webhooks other servers post to (on the API's table); each proves itself with its own secret, not a session. */
export function webhookApi(api: ApiRoutes) {
  // Seerr's webhook agent: Authorization as configured there, its JSON template in the body. The secret is checked
  // before the body is read, so the route reads the body itself.
  const seerrWebhook = {
    method: "post",
    path: SEERR_WEBHOOK_PATH,
    operationId: "seerrWebhook",
    summary: "Seerr's webhook agent reports a request's change (its default JSON template).",
    tag: "webhooks",
    access: "public",
    auth: "webhook",
    body: webhookPayloadSchema,
    validateBody: false,
    ok: { 200: { description: "Taken: what it did.", schema: deliverySchema } },
    errors: [400, 401],
  } satisfies ApiOperation;
  api.add(seerrWebhook, async (c) => {
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
    return c.json({ ok: true, ...outcome } satisfies z.output<typeof deliverySchema>);
  });
}
