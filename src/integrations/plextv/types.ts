/** plex.tv remote shapes (zod, lenient) and the domain types the rest of MediaNest sees. */
import { z } from "zod";

// Remote shapes: only the fields we read are declared; unknown fields pass through, and fields plex.tv is
// known to send as null (or leave out for managed and guest accounts) are nullish.

/** Parse a PIN as POST /api/v2/pins and GET /api/v2/pins/{id} send it. */
export const remotePinSchema = z.looseObject({
  id: z.number().int(),
  code: z.string(),
  clientIdentifier: z.string().nullish(),
  expiresIn: z.number().nullish(),
  createdAt: z.string().nullish(),
  expiresAt: z.string().nullish(),
  authToken: z.string().nullish(),
});
export type RemotePin = z.infer<typeof remotePinSchema>;

/** Parse the account GET /api/v2/user sends for a token. */
export const remoteUserSchema = z.looseObject({
  id: z.number().int(),
  uuid: z.string(),
  username: z.string().nullish(),
  title: z.string().nullish(),
  email: z.string().nullish(),
  thumb: z.string().nullish(),
  authToken: z.string().nullish(),
  home: z.boolean().nullish(),
  restricted: z.boolean().nullish(),
});
export type RemoteUser = z.infer<typeof remoteUserSchema>;

/** Parse one connection of a device in GET /api/v2/resources. */
export const remoteConnectionSchema = z.looseObject({
  protocol: z.string().nullish(),
  address: z.string().nullish(),
  port: z.number().nullish(),
  uri: z.string(),
  local: z.boolean().nullish(),
  relay: z.boolean().nullish(),
  IPv6: z.boolean().nullish(),
});

/** Parse one device of GET /api/v2/resources; `provides` is a comma-separated list ("server", "client,player"). */
export const remoteResourceSchema = z.looseObject({
  name: z.string().nullish(),
  product: z.string().nullish(),
  clientIdentifier: z.string(),
  provides: z.string().nullish(),
  owned: z.boolean().nullish(),
  accessToken: z.string().nullish(),
  connections: z.array(remoteConnectionSchema).nullish(),
});
export const remoteResourcesSchema = z.array(remoteResourceSchema);
export type RemoteResource = z.infer<typeof remoteResourceSchema>;

// Domain types.

/** A fresh sign-in PIN: send the user to authUrl(code) and poll getPin(id). */
export interface PlexPin {
  id: number;
  code: string;
  expiresAt: Date;
}

/** The state of a PIN while polling; authToken is set once the user approved it. */
export interface PlexPinStatus {
  id: number;
  code: string;
  authToken: string | null;
  expired: boolean;
}

/** A plex.tv account. */
export interface PlexAccount {
  plexId: number;
  uuid: string;
  username: string;
  title: string;
  email: string | null;
  thumb: string | null;
}

/** One way to reach a device. */
export interface PlexConnection {
  uri: string;
  local: boolean;
  relay: boolean;
}

/** A device the account can see (servers it owns or that are shared with it, players, ...). */
export interface PlexResource {
  name: string;
  clientIdentifier: string;
  provides: string[];
  owned: boolean;
  /** The account's token on this device; null for devices that do not hand one out. */
  accessToken: string | null;
  connections: PlexConnection[];
}
