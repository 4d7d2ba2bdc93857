/** Uptime Kuma client (1.23 and 2.x): public status page, its heartbeats, and /metrics for a connection test. */
import { IntegrationError, type IntegrationObserver, requestJson, requestRaw } from "../http";
import {
  beatStatus,
  type KumaBeat,
  type KumaIncident,
  type KumaMonitorHeartbeats,
  type KumaStatusPage,
  parseKumaTime,
  type RemoteIncident,
  remoteHeartbeatsSchema,
  remoteStatusPageSchema,
} from "./types";

const SERVICE = "kuma";
const DISPLAY_NAME = "Uptime Kuma";
const METRICS_LIMIT = 5_000_000;

export interface KumaClientOptions {
  /** e.g. http://192.168.1.10:3001 or https://status.example.com */
  baseUrl: string;
  /** API key (Settings → API Keys); only /metrics needs it. */
  apiKey?: string | null;
  fetch?: typeof fetch;
  timeoutMs?: number;
  observer?: IntegrationObserver;
}

export interface KumaClient {
  /** Read a status page: title, groups of monitors, pinned incidents and maintenance. */
  getStatusPage(slug: string): Promise<KumaStatusPage>;
  /** Read the recent heartbeats and 24 h uptime of every monitor on a status page, by monitor id (an unknown slug: none). */
  getHeartbeats(slug: string): Promise<Map<number, KumaMonitorHeartbeats>>;
  /** Read Kuma's Prometheus metrics text (basic auth, API key as password); used to test the connection. */
  getMetrics(): Promise<string>;
}

/** Create a client for one Uptime Kuma instance. */
export function createKumaClient(opts: KumaClientOptions): KumaClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");

  function common() {
    return {
      service: SERVICE,
      displayName: DISPLAY_NAME,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.observer ? { observer: opts.observer } : {}),
    };
  }

  // Kuma answers an unknown slug with 404 {"status":"fail","msg":"Status Page Not Found"}; say which slug.
  function renameNotFound(err: unknown, slug: string): never {
    if (err instanceof IntegrationError && err.status === 404) {
      throw new IntegrationError({
        service: SERVICE,
        kind: "refused",
        status: 404,
        message: `Uptime Kuma has no status page with the slug "${slug}" (${vendorMessage(err.body) ?? "status 404"})`,
        ...(err.body === undefined ? {} : { body: err.body }),
        cause: err,
      });
    }
    throw err;
  }

  return {
    async getStatusPage(slug) {
      const body = await requestJson({
        ...common(),
        url: `${baseUrl}/api/status-page/${encodeURIComponent(slug)}`,
        headers: { Accept: "application/json" },
        schema: remoteStatusPageSchema,
      }).catch((err: unknown) => renameNotFound(err, slug));
      const incidents = body.incidents ?? (body.incident ? [body.incident] : []);
      return {
        title: body.config.title ?? slug,
        description: body.config.description ?? "",
        groups: body.publicGroupList.map((g) => ({
          id: g.id,
          name: g.name,
          monitors: (g.monitorList ?? []).map((m) => ({ id: m.id, name: m.name, type: m.type ?? null })),
        })),
        incidents: incidents.map(toIncident),
        maintenance: (body.maintenanceList ?? []).map((m) => ({
          title: m.title ?? "Maintenance",
          description: m.description ?? "",
        })),
      };
    },

    async getHeartbeats(slug) {
      const body = await requestJson({
        ...common(),
        url: `${baseUrl}/api/status-page/heartbeat/${encodeURIComponent(slug)}`,
        headers: { Accept: "application/json" },
        schema: remoteHeartbeatsSchema,
      }).catch((err: unknown) => renameNotFound(err, slug));
      const out = new Map<number, KumaMonitorHeartbeats>();
      const ids = new Set<string>(Object.keys(body.heartbeatList));
      for (const key of Object.keys(body.uptimeList)) ids.add(key.split("_")[0] ?? key);
      for (const id of ids) {
        const n = Number(id);
        if (!Number.isInteger(n)) continue;
        const beats: KumaBeat[] = [];
        for (const b of body.heartbeatList[id] ?? []) {
          if (b === null) continue;
          beats.push({
            status: beatStatus(b.status),
            statusCode: b.status,
            time: b.time,
            msg: b.msg ?? "",
            ping: b.ping ?? null,
          });
        }
        beats.sort((a, b) => a.time.getTime() - b.time.getTime());
        const up = body.uptimeList;
        // Newer 2.x builds key uptime by the bare id (over the page's heartbeat range, 24 h by default).
        out.set(n, { beats, uptime24: fraction(up[`${id}_24`] ?? up[id]) });
      }
      return out;
    },

    async getMetrics() {
      const headers: Record<string, string> = { Accept: "text/plain" };
      // Kuma ignores the user name of an API key; the key is the password.
      if (opts.apiKey) headers.Authorization = `Basic ${btoa(`medianest:${opts.apiKey}`)}`;
      const res = await requestRaw({ ...common(), url: `${baseUrl}/metrics`, headers });
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
        const error = new IntegrationError({
          service: SERVICE,
          kind: timedOut ? "timeout" : "network",
          message: timedOut
            ? `${DISPLAY_NAME} did not finish sending /metrics in time`
            : `${DISPLAY_NAME} closed the connection while sending /metrics`,
          cause: err,
        });
        opts.observer?.onIntegrationError?.(SERVICE, error.kind);
        throw error;
      }
      if (text.length > METRICS_LIMIT || !looksLikePrometheus(text)) {
        const error = new IntegrationError({
          service: SERVICE,
          kind: "bad_response",
          message: `${DISPLAY_NAME} answered /metrics with something that is not Prometheus text`,
          status: res.status,
          body: text.slice(0, 2000),
        });
        opts.observer?.onIntegrationError?.(SERVICE, error.kind);
        throw error;
      }
      return text;
    },
  };
}

function toIncident(i: RemoteIncident): KumaIncident {
  return {
    title: i.title ?? "Incident",
    content: i.content ?? "",
    style: i.style ?? "info",
    createdDate: i.createdDate ? (parseKumaTime(i.createdDate) ?? null) : null,
  };
}

function fraction(v: number | null | undefined): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  return Math.min(1, Math.max(0, v));
}

function looksLikePrometheus(text: string): boolean {
  const first = text.trimStart().slice(0, 200).toLowerCase();
  if (first.startsWith("<") || first.startsWith("{") || first.startsWith("[")) return false;
  return /^(# (help|type) |[a-zA-Z_:][a-zA-Z0-9_:]*(\{| ))/m.test(text);
}

/** Pull Kuma's {"msg": "..."} out of an error body, when it has one. */
function vendorMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && "msg" in parsed && typeof parsed.msg === "string" && parsed.msg) {
      return parsed.msg.slice(0, 200);
    }
  } catch {
    // not JSON: fall back to the status
  }
  return undefined;
}
