/** What a poster's or title's badge says: Seerr's availability, and where MediaNest knows more, the request's state. */
import type { SeerrMediaStatus, SeerrRequestStatus } from "../integrations/seerr/types";

/** The kinds of badge the pages show. */
export type BadgeKind =
  | "available"
  | "partial"
  | "processing"
  | "pending"
  | "approved"
  | "declined"
  | "failed"
  | "unknown";

/** A badge: its kind and words, and for admins who asked for the title. */
export interface Badge {
  kind: BadgeKind;
  label: string;
  by?: string | null;
}

const BY_MEDIA_STATUS: Partial<Record<SeerrMediaStatus, Badge>> = {
  available: { kind: "available", label: "Available" },
  partially_available: { kind: "partial", label: "Partly available" },
  processing: { kind: "processing", label: "Processing" },
  pending: { kind: "pending", label: "Pending approval" },
};

/** Return the badge for Seerr's availability of a title; null when there is nothing to say (nobody asked for it). */
export function availabilityBadge(status: SeerrMediaStatus): Badge | null {
  return BY_MEDIA_STATUS[status] ?? null;
}

const BY_REQUEST_STATUS: Record<SeerrRequestStatus, Badge> = {
  pending: { kind: "pending", label: "Pending approval" },
  approved: { kind: "approved", label: "Approved" },
  declined: { kind: "declined", label: "Declined" },
  failed: { kind: "failed", label: "Failed" },
  completed: { kind: "available", label: "Available" },
  unknown: { kind: "unknown", label: "Unknown" },
};

/** Return the badge for a Seerr request's state. */
export function requestBadge(status: SeerrRequestStatus): Badge {
  return BY_REQUEST_STATUS[status];
}

/** Return a season's badge: what Plex has of it, else the state of the request that holds it; null for neither. */
export function seasonBadge(s: { status: SeerrMediaStatus; requested: SeerrRequestStatus | null }): Badge | null {
  return availabilityBadge(s.status) ?? (s.requested ? requestBadge(s.requested) : null);
}
