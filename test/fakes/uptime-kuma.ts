/**
 * A fake Uptime Kuma answering the public status page API and /metrics as a real Kuma does: 2.x (as measured on
 * 2.5.3) by default, 1.23 as a second mode (../shared/specs/README.md, "Uptime Kuma"; Kuma's status-page-router.js
 * and models' toPublicJSON()). Both blank every public heartbeat's `msg`, send only the 24 h uptime (`<id>_24`) and
 * answer an unknown slug on the heartbeat endpoint with 200 and empty lists.
 */
import { type Fault, FaultQueue, type RecordedRequest, serveFake, type PayloadMode } from "./http-fake";

export type FakeKumaVersion = "1.23" | "2";

export interface FakeKumaMonitorInput {
  id: number;
  name: string;
  /** Kuma monitor type; default "http". */
  type?: string;
}

export interface FakeKumaGroupInput {
  id?: number;
  name: string;
  monitors: FakeKumaMonitorInput[];
}

export interface FakeKumaBeatInput {
  /** 0 down, 1 up, 2 pending, 3 maintenance; anything else to test unknown numbers. */
  status: number;
  time: Date;
  ping?: number | null;
}

export interface FakeKumaIncidentInput {
  title: string;
  content?: string;
  /** info, warning, danger, primary, light, dark */
  style?: string;
  createdDate?: Date;
}

export interface FakeKumaMaintenanceInput {
  title: string;
  description?: string;
}

export interface FakeUptimeKumaOptions {
  version?: FakeKumaVersion;
  slug?: string;
  title?: string;
  description?: string;
  /** The API key /metrics accepts as the basic-auth password. */
  apiKey?: string;
  groups?: FakeKumaGroupInput[];
  /** How long a "timeout" fault holds a request. */
  holdMs?: number;
  /** Rewrite every free-text field of the answers (titles, names, texts), e.g. with script payloads; off by default. */
  payload?: PayloadMode;
}

export interface FakeUptimeKuma {
  url: string;
  slug: string;
  requests: RecordedRequest[];
  setVersion(version: FakeKumaVersion): void;
  setGroups(groups: FakeKumaGroupInput[]): void;
  /** Replace a monitor's heartbeats (any order; the fake sends them oldest first, at most 100). */
  setBeats(monitorId: number, beats: FakeKumaBeatInput[]): void;
  addBeat(monitorId: number, beat: FakeKumaBeatInput): void;
  /** Set the 24 h uptime fraction Kuma computed ("<id>_24"; omit to leave it out). Kuma sends no longer period. */
  setUptime(monitorId: number, uptime: { day?: number }): void;
  /** Pinned incidents; 1.23 shows only the first (as `incident`), 2.x all of them (as `incidents[]`). */
  setIncidents(incidents: FakeKumaIncidentInput[]): void;
  setMaintenance(list: FakeKumaMaintenanceInput[]): void;
  /** Answer the next request with a fault instead of the real route. */
  failNext(fault: Fault): void;
  /** Turn the payload mode on (a function) or off (undefined) for the answers from now on. */
  setPayloadMode(mode: PayloadMode | undefined): void;
  stop(): Promise<void>;
}

/** Format a time the way Kuma stores and sends it: UTC, no zone marker ("2026-11-22 01:28:27.636"). */
export function kumaTime(d: Date): string {
  return d.toISOString().replace("T", " ").replace("Z", "");
}

/** Answer Kuma's error envelope (sendHttpError). */
function kumaError(status: number, msg: string): Response {
  return Response.json({ status: "fail", msg }, { status });
}

/** Start a fake Uptime Kuma on a random port. */
export function startFakeUptimeKuma(opts: FakeUptimeKumaOptions = {}): FakeUptimeKuma {
  let payloadMode: PayloadMode | undefined = opts.payload;
  const slug = opts.slug ?? "home";
  const requests: RecordedRequest[] = [];
  let version: FakeKumaVersion = opts.version ?? "2";
  let groups: FakeKumaGroupInput[] = opts.groups ?? [];
  const beats = new Map<number, FakeKumaBeatInput[]>();
  const uptimes = new Map<number, { day?: number }>();
  let incidents: FakeKumaIncidentInput[] = [];
  let maintenance: FakeKumaMaintenanceInput[] = [];
  const faults = new FaultQueue(
    (status) =>
      status === 401
        ? new Response("Unauthorized", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="Uptime Kuma"' } })
        : kumaError(status, "Injected failure"),
    opts.holdMs,
  );

  function config() {
    const base = {
      slug,
      title: opts.title ?? "Home services",
      description: opts.description ?? null,
      icon: "/icon.svg",
      theme: "auto",
      published: true,
      showTags: false,
      customCSS: "body {\n  \n}\n",
      footerText: null,
      showPoweredBy: true,
      googleAnalyticsId: null,
    };
    return version === "2"
      ? { ...base, showCertificateExpiry: false, autoRefreshInterval: 300, analyticsType: null }
      : base;
  }

  function incidentWire(i: FakeKumaIncidentInput, index: number) {
    const created = kumaTime(i.createdDate ?? new Date("2026-01-01T00:00:00Z"));
    return {
      id: index + 1,
      style: i.style ?? "warning",
      title: i.title,
      content: i.content ?? "",
      pin: version === "2" ? true : 1,
      ...(version === "2" ? { active: true } : {}),
      createdDate: created,
      lastUpdatedDate: null,
    };
  }

  function maintenanceWire(m: FakeKumaMaintenanceInput, index: number) {
    return {
      id: index + 1,
      title: m.title,
      description: m.description ?? "",
      strategy: "manual",
      intervalDay: 1,
      active: true,
      dateRange: [],
      timeRange: [
        { hours: 2, minutes: 0 },
        { hours: 3, minutes: 0 },
      ],
      weekdays: [],
      daysOfMonth: [],
      timeslotList: [],
      cron: "30 3 * * *",
      duration: 60,
      timezone: "UTC",
      timezoneOffset: "+00:00",
      status: "under-maintenance",
    };
  }

  function statusPage(): Response {
    const publicGroupList = groups.map((g, i) => ({
      id: g.id ?? i + 1,
      name: g.name,
      weight: i + 1,
      monitorList: g.monitors.map((m) => ({ id: m.id, name: m.name, sendUrl: 0, type: m.type ?? "http" })),
    }));
    const list = incidents.map(incidentWire);
    const body =
      version === "1.23"
        ? {
            config: config(),
            incident: list[0] ?? null,
            publicGroupList,
            maintenanceList: maintenance.map(maintenanceWire),
          }
        : { config: config(), incidents: list, publicGroupList, maintenanceList: maintenance.map(maintenanceWire) };
    return Response.json(body);
  }

  function heartbeats(): Response {
    const heartbeatList: Record<string, unknown[]> = {};
    const uptimeList: Record<string, number> = {};
    for (const g of groups) {
      for (const m of g.monitors) {
        const list = [...(beats.get(m.id) ?? [])].sort((a, b) => a.time.getTime() - b.time.getTime()).slice(-100);
        heartbeatList[String(m.id)] = list.map((b) => ({
          status: b.status,
          time: kumaTime(b.time),
          // Kuma hides the monitor's message from the public (Heartbeat.toPublicJSON()).
          msg: "",
          ping: b.ping ?? null,
        }));
        const up = uptimes.get(m.id);
        if (up?.day !== undefined) uptimeList[`${m.id}_24`] = up.day;
      }
    }
    return Response.json({ heartbeatList, uptimeList });
  }

  function metrics(req: RecordedRequest): Response {
    const auth = req.headers.authorization ?? "";
    const password = auth.startsWith("Basic ") ? atob(auth.slice(6)).split(":").slice(1).join(":") : undefined;
    if (!opts.apiKey || password !== opts.apiKey) {
      return new Response("Unauthorized", {
        status: 401,
        headers: { "WWW-Authenticate": 'Basic realm="Uptime Kuma"' },
      });
    }
    const lines = [
      "# HELP monitor_cert_days_remaining The number of days remaining until the certificate expires",
      "# TYPE monitor_cert_days_remaining gauge",
      "# HELP monitor_status Monitor Status (1 = UP, 0= DOWN, 2= PENDING, 3= MAINTENANCE)",
      "# TYPE monitor_status gauge",
    ];
    for (const g of groups) {
      for (const m of g.monitors) {
        const last = (beats.get(m.id) ?? []).at(-1);
        lines.push(
          `monitor_status{monitor_name="${m.name}",monitor_type="${m.type ?? "http"}",monitor_url="https://example.com",monitor_hostname="null",monitor_port="null"} ${last?.status ?? 2}`,
        );
      }
    }
    lines.push("# HELP monitor_response_time Monitor Response Time (ms)", "# TYPE monitor_response_time gauge");
    return new Response(`${lines.join("\n")}\n`, {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  }

  function route(req: RecordedRequest): Response {
    const { method, path } = req;
    if (method !== "GET") return kumaError(404, "Not Found");
    if (path === "/metrics") return metrics(req);
    const hb = /^\/api\/status-page\/heartbeat\/([^/]+)$/.exec(path);
    if (hb?.[1] !== undefined) {
      // Kuma runs the monitor query with the missing page's null id and answers empty lists (2.5.3 and 1.23 alike).
      if (decodeURIComponent(hb[1]).toLowerCase() !== slug) return Response.json({ heartbeatList: {}, uptimeList: {} });
      return heartbeats();
    }
    const page = /^\/api\/status-page\/([^/]+)$/.exec(path);
    if (page?.[1] !== undefined) {
      if (decodeURIComponent(page[1]).toLowerCase() !== slug) return kumaError(404, "Status Page Not Found");
      return statusPage();
    }
    return kumaError(404, "Not Found");
  }

  const server = serveFake(requests, faults, route, () => payloadMode);

  return {
    url: `http://127.0.0.1:${server.port}`,
    slug,
    requests,
    setVersion(next) {
      version = next;
    },
    setGroups(next) {
      groups = next;
    },
    setBeats(monitorId, list) {
      beats.set(monitorId, [...list]);
    },
    addBeat(monitorId, beat) {
      beats.set(monitorId, [...(beats.get(monitorId) ?? []), beat]);
    },
    setUptime(monitorId, uptime) {
      uptimes.set(monitorId, uptime);
    },
    setIncidents(next) {
      incidents = [...next];
    },
    setMaintenance(next) {
      maintenance = [...next];
    },
    setPayloadMode(mode) {
      payloadMode = mode;
    },
    failNext(fault) {
      faults.push(fault);
    },
    async stop() {
      faults.releaseAll();
      await server.stop(true);
    },
  };
}
