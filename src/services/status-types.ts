/** The state of one watched service. Kuma's status numbers map: 0 down, 1 up, 2 pending → degraded, 3 maintenance. */
export type ServiceState = "up" | "degraded" | "down" | "maintenance" | "unknown";

/** The periods a tile's uptime is given for: 24 hours, 7 days, 30 days. */
export type UptimePeriod = "day" | "week" | "month";

/** One check in a tile's strip of recent checks. */
export interface CheckPoint {
  at: Date;
  state: ServiceState;
  responseMs: number | null;
}

/** One tile of the status page. */
export interface ServiceTile {
  /** Stable id: "plex", "seerr", "kuma", "ytdlp" for MediaNest's own checks; "kuma:<monitorId>" for Kuma monitors. */
  id: string;
  name: string;
  /** Kuma's group name, or "MediaNest" for MediaNest's own checks. */
  group: string;
  state: ServiceState;
  /** Why the state is down or unknown, in words a user can read. */
  reason: string | null;
  responseMs: number | null;
  /** Fractions from 0 to 1; null when there is no data for the period. */
  uptime: { day: number | null; week: number | null; month: number | null };
  /** The periods of `uptime` measured from MediaNest's own checks (a Kuma tile's 24 h is Kuma's). */
  measured: UptimePeriod[];
  /** MediaNest's first recorded check of this tile in the last 30 days; periods reaching further back are partial. */
  measuredSince: Date | null;
  /** Oldest first, at most 50. */
  recent: CheckPoint[];
  source: "kuma" | "medianest";
}

/** An incident or maintenance window announced on the Kuma status page. */
export interface StatusAnnouncement {
  title: string;
  content: string;
  style: "info" | "warning" | "danger" | "primary" | "maintenance";
  at: Date | null;
}

/** Everything the status page and the dashboard's summary show. */
export interface StatusOverview {
  tiles: ServiceTile[];
  announcements: StatusAnnouncement[];
  /** Problems reaching the sources themselves (e.g. "Uptime Kuma did not answer (timeout after 5 s)"). */
  sourceErrors: string[];
  updatedAt: Date | null;
}
