import { HTTPException } from "hono/http-exception";
import type { AppDeps } from "../app/deps";

/** Named limits for the actions that are rate limited, per IP and per account. */
export const LIMITS = {
  login: { limit: 10, windowMs: 15 * 60_000 },
  loginAccount: { limit: 5, windowMs: 15 * 60_000 },
  pinCreate: { limit: 10, windowMs: 10 * 60_000 },
  pinPoll: { limit: 240, windowMs: 10 * 60_000 },
} as const;

/** Count a hit against every key; throw 429 with Retry-After when any is over its limit. */
export async function enforceRateLimit(
  deps: Pick<AppDeps, "coordination">,
  rule: { limit: number; windowMs: number },
  keys: string[],
): Promise<void> {
  for (const key of keys) {
    const r = await deps.coordination.rateLimiter.hit(`rl:${key}`, rule.limit, rule.windowMs);
    if (!r.allowed) {
      const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
      throw new HTTPException(429, {
        message: `Too many attempts. Try again in ${seconds >= 60 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`}.`,
        res: undefined,
      });
    }
  }
}
