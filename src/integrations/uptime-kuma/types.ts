/** Uptime Kuma remote shapes (zod, lenient; 1.23 and 2.x) and the domain types the rest of MediaNest sees. */
import { z } from "zod";

// Remote shapes: only the fields we read are declared; unknown fields pass through. Kuma's public status page
// API is plain JSON (no socket.io); see ../shared/specs/README.md, "Uptime Kuma".

/** Parse an incident as Kuma's Incident.toPublicJSON() sends it. */
export const remoteIncidentSchema = z.looseObject({
  id: z.number().nullish(),
  style: z.string().nullish(),
  title: z.string().nullish(),
  content: z.string().nullish(),
  createdDate: z.string().nullish(),
  lastUpdatedDate: z.string().nullish(),
});
export type RemoteIncident = z.infer<typeof remoteIncidentSchema>;

/** Parse a maintenance window as Kuma's Maintenance.toPublicJSON() sends it. */
export const remoteMaintenanceSchema = z.looseObject({
  id: z.number().nullish(),
  title: z.string().nullish(),
  description: z.string().nullish(),
  status: z.string().nullish(),
});
export type RemoteMaintenance = z.infer<typeof remoteMaintenanceSchema>;

/** Parse one monitor of a status page group. */
export const remoteMonitorSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  type: z.string().nullish(),
  sendUrl: z.union([z.number(), z.boolean()]).nullish(),
});

/** Parse one public group of a status page. */
export const remoteGroupSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  weight: z.number().nullish(),
  monitorList: z.array(remoteMonitorSchema).nullish(),
});

/** Parse GET /api/status-page/{slug}: 1.23 sends `incident` (object or null), 2.x sends `incidents[]`. */
export const remoteStatusPageSchema = z.looseObject({
  config: z.looseObject({
    slug: z.string().nullish(),
    title: z.string().nullish(),
    description: z.string().nullish(),
  }),
  incident: remoteIncidentSchema.nullish(),
  incidents: z.array(remoteIncidentSchema).nullish(),
  publicGroupList: z.array(remoteGroupSchema),
  maintenanceList: z.array(remoteMaintenanceSchema).nullish(),
});
export type RemoteStatusPage = z.infer<typeof remoteStatusPageSchema>;

/** Parse a Kuma time string into a Date; an unreadable time fails the parse, naming the value. */
const kumaTimeSchema = z.string().transform((value, ctx) => {
  const d = parseKumaTime(value);
  if (d) return d;
  ctx.issues.push({ code: "custom", message: `not a time: ${JSON.stringify(value.slice(0, 40))}`, input: value });
  return z.NEVER;
});

/** Parse one heartbeat as Heartbeat.toPublicJSON() sends it (time still a string on the wire). */
export const remoteBeatSchema = z.looseObject({
  status: z.number(),
  time: kumaTimeSchema,
  msg: z.string().nullish(),
  ping: z.number().nullish(),
});
export type RemoteBeat = z.infer<typeof remoteBeatSchema>;

// Newer 2.x builds with "heartbeat bar days" configured send `0` for an empty bucket instead of a beat.
const remoteBeatOrEmptySchema = z.preprocess((v) => (v === 0 ? null : v), remoteBeatSchema.nullable());

/** Parse GET /api/status-page/heartbeat/{slug}. */
export const remoteHeartbeatsSchema = z.looseObject({
  heartbeatList: z.record(z.string(), z.array(remoteBeatOrEmptySchema)),
  uptimeList: z.record(z.string(), z.number().nullish()),
});
export type RemoteHeartbeats = z.infer<typeof remoteHeartbeatsSchema>;

// Domain types.

/** A heartbeat's status: Kuma's 0 down, 1 up, 2 pending, 3 maintenance; any other number is "unknown". */
export type KumaBeatStatus = "down" | "up" | "pending" | "maintenance" | "unknown";

/** One monitor shown on the status page. */
export interface KumaMonitor {
  id: number;
  name: string;
  /** Kuma's monitor type ("http", "ping", "docker", ...), null when not sent. */
  type: string | null;
}

/** One group of monitors on the status page. */
export interface KumaGroup {
  id: number;
  name: string;
  monitors: KumaMonitor[];
}

/** A pinned incident on the status page. */
export interface KumaIncident {
  title: string;
  content: string;
  /** Kuma's style: info, warning, danger, primary, light, dark. */
  style: string;
  createdDate: Date | null;
}

/** A maintenance window that is active or scheduled on the status page. */
export interface KumaMaintenance {
  title: string;
  description: string;
}

/** The status page: its title, groups of monitors, incidents and maintenance. */
export interface KumaStatusPage {
  title: string;
  description: string;
  groups: KumaGroup[];
  incidents: KumaIncident[];
  maintenance: KumaMaintenance[];
}

/** One heartbeat of a monitor. */
export interface KumaBeat {
  status: KumaBeatStatus;
  /** The status number Kuma sent (kept so an unknown one can be named). */
  statusCode: number;
  time: Date;
  /** Always "" from a real Kuma, which hides a monitor's message on its public page. */
  msg: string;
  ping: number | null;
}

/** A monitor's recent heartbeats (oldest first) and the 24 h uptime Kuma computed (Kuma sends no longer period). */
export interface KumaMonitorHeartbeats {
  beats: KumaBeat[];
  /** 0..1 over 24 hours, null when Kuma sent none. */
  uptime24: number | null;
}

/** Map Kuma's status number to a status. */
export function beatStatus(code: number): KumaBeatStatus {
  switch (code) {
    case 0:
      return "down";
    case 1:
      return "up";
    case 2:
      return "pending";
    case 3:
      return "maintenance";
    default:
      return "unknown";
  }
}

/** Parse a Kuma time: "2026-11-22 01:28:27.636" is UTC without a zone marker; ISO times with a zone are kept. */
export function parseKumaTime(value: string): Date | undefined {
  const trimmed = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return undefined;
  let iso = trimmed.length === 10 ? `${trimmed}T00:00:00` : trimmed.replace(" ", "T");
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += "Z";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
