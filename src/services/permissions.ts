/** Every permission a user can hold; admins implicitly hold all. */
export const PERMISSIONS = [
  "request",
  "request_4k",
  "auto_approve_requests",
  "download",
  "auto_approve_downloads",
  "subscribe_channels",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const PERMISSION_LABELS: Record<Permission, string> = {
  request: "Request movies and shows",
  request_4k: "Request in 4K",
  auto_approve_requests: "Requests are approved automatically",
  download: "Download videos",
  auto_approve_downloads: "Downloads start without approval",
  subscribe_channels: "Subscribe to channels",
};

export const DEFAULT_PERMISSIONS: Permission[] = ["request", "download"];

/** True when the user may do what the permission allows. */
export function can(user: { role: string; permissions: string[] }, permission: Permission): boolean {
  return user.role === "admin" || user.permissions.includes(permission);
}
