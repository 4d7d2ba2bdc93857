import type { Config } from "../config/options";

/** Ask the local server's /readyz; 0 when ready, 1 otherwise (for container health checks without curl). */
export async function healthcheck(config: Config): Promise<number> {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  try {
    const res = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${config.port}/readyz`, {
      signal: AbortSignal.timeout(3000),
    });
    const body = await res.text();
    console.log(`${res.status} ${body}`);
    return res.ok ? 0 : 1;
  } catch (err) {
    console.error(`healthcheck: MediaNest did not answer on port ${config.port}: ${(err as Error).message}`);
    return 1;
  }
}
