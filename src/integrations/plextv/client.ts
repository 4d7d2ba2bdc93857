/** plex.tv client: PIN sign-in, the signed-in account, and the devices (servers) it can reach. */
import { IntegrationError, type IntegrationObserver, requestJson } from "../http";
import {
  type PlexAccount,
  type PlexPin,
  type PlexPinStatus,
  type PlexResource,
  type RemoteResource,
  type RemoteUser,
  remotePinSchema,
  remoteResourcesSchema,
  remoteUserSchema,
} from "./types";

const SERVICE = "plextv";
const DISPLAY_NAME = "plex.tv";
/** plex.tv's error code for a PIN that expired or never existed (sent with status 404). */
const PIN_NOT_FOUND_CODE = 1020;

export interface PlexTvClientOptions {
  baseUrl?: string;
  /** Where the browser signs in; only tests change it. */
  appAuthBaseUrl?: string;
  /** One stable UUID per installation. */
  clientIdentifier: string;
  product?: string;
  version: string;
  platform?: string;
  device?: string;
  deviceName?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  observer?: IntegrationObserver;
}

export interface PlexTvClient {
  /** Create a strong PIN for the sign-in flow. */
  createPin(): Promise<PlexPin>;
  /** Read a PIN while polling; an expired or unknown PIN is `expired: true`, not an error. */
  getPin(id: number): Promise<PlexPinStatus>;
  /** Build the app.plex.tv URL where the user approves the PIN. */
  authUrl(code: string, forwardUrl?: string): string;
  /** Read the account behind a token; a bad token throws IntegrationError kind "unauthorized". */
  getUser(token: string): Promise<PlexAccount>;
  /** List the devices the account can reach, with its access token on each. */
  getResources(token: string): Promise<PlexResource[]>;
}

/** Create a plex.tv client; every call sends the X-Plex-* identification headers plex.tv expects. */
export function createPlexTvClient(opts: PlexTvClientOptions): PlexTvClient {
  const baseUrl = (opts.baseUrl ?? "https://plex.tv").replace(/\/+$/, "");
  const appAuthBaseUrl = opts.appAuthBaseUrl ?? "https://app.plex.tv/auth";
  const product = opts.product ?? "MediaNest";

  function headers(token?: string): Record<string, string> {
    const h: Record<string, string> = {
      Accept: "application/json",
      "X-Plex-Client-Identifier": opts.clientIdentifier,
      "X-Plex-Product": product,
      "X-Plex-Version": opts.version,
    };
    if (opts.platform) h["X-Plex-Platform"] = opts.platform;
    if (opts.device) h["X-Plex-Device"] = opts.device;
    if (opts.deviceName) h["X-Plex-Device-Name"] = opts.deviceName;
    if (token !== undefined) h["X-Plex-Token"] = token;
    return h;
  }

  function common() {
    return {
      service: SERVICE,
      displayName: DISPLAY_NAME,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.observer ? { observer: opts.observer } : {}),
    };
  }

  return {
    async createPin() {
      const pin = await requestJson({
        ...common(),
        url: `${baseUrl}/api/v2/pins?strong=true`,
        method: "POST",
        headers: headers(),
        schema: remotePinSchema,
      });
      return { id: pin.id, code: pin.code, expiresAt: pinExpiry(pin.expiresAt, pin.expiresIn) };
    },

    async getPin(id) {
      try {
        const pin = await requestJson({
          ...common(),
          url: `${baseUrl}/api/v2/pins/${encodeURIComponent(String(id))}`,
          headers: headers(),
          schema: remotePinSchema,
        });
        return { id: pin.id, code: pin.code, authToken: pin.authToken ?? null, expired: false };
      } catch (err) {
        if (err instanceof IntegrationError && err.status === 404 && isPinNotFound(err.body)) {
          return { id, code: "", authToken: null, expired: true };
        }
        throw err;
      }
    },

    authUrl(code, forwardUrl) {
      const params: [string, string][] = [
        ["clientID", opts.clientIdentifier],
        ["code", code],
        ["context[device][product]", product],
      ];
      if (forwardUrl !== undefined) params.push(["forwardUrl", forwardUrl]);
      // app.plex.tv reads its parameters from the fragment; each key and value is encoded on its own.
      const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
      return `${appAuthBaseUrl}#?${query}`;
    },

    async getUser(token) {
      const user = await requestJson({
        ...common(),
        url: `${baseUrl}/api/v2/user`,
        headers: headers(token),
        schema: remoteUserSchema,
      });
      return toAccount(user);
    },

    async getResources(token) {
      const resources = await requestJson({
        ...common(),
        url: `${baseUrl}/api/v2/resources?includeHttps=1&includeRelay=1`,
        headers: headers(token),
        schema: remoteResourcesSchema,
      });
      return resources.map(toResource);
    },
  };
}

/** Find the server with this machineIdentifier among the resources; its accessToken is the user's token there. */
export function findServerAccess(
  resources: readonly PlexResource[],
  machineIdentifier: string,
): PlexResource | undefined {
  return resources.find((r) => r.clientIdentifier === machineIdentifier && r.provides.includes("server"));
}

function pinExpiry(expiresAt: string | null | undefined, expiresIn: number | null | undefined): Date {
  const parsed = expiresAt ? new Date(expiresAt) : undefined;
  if (parsed && !Number.isNaN(parsed.getTime())) return parsed;
  // plex.tv gives PINs 15 minutes when it sends no usable expiry.
  return new Date(Date.now() + (expiresIn ?? 900) * 1000);
}

/** Tell whether an error body is plex.tv's "Code not found or expired" (code 1020). */
function isPinNotFound(body: string | undefined): boolean {
  if (body === undefined) return false;
  try {
    const parsed: unknown = JSON.parse(body);
    const errors = (parsed as { errors?: unknown } | null)?.errors;
    return Array.isArray(errors) && errors.some((e: { code?: unknown } | null) => e?.code === PIN_NOT_FOUND_CODE);
  } catch {
    return false;
  }
}

function toAccount(user: RemoteUser): PlexAccount {
  return {
    plexId: user.id,
    uuid: user.uuid,
    username: user.username ?? user.title ?? "",
    title: user.title ?? user.username ?? "",
    email: user.email ?? null,
    thumb: user.thumb ?? null,
  };
}

function toResource(r: RemoteResource): PlexResource {
  return {
    name: r.name ?? r.product ?? r.clientIdentifier,
    clientIdentifier: r.clientIdentifier,
    provides: (r.provides ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== ""),
    owned: r.owned ?? false,
    accessToken: r.accessToken ?? null,
    connections: (r.connections ?? []).map((c) => ({ uri: c.uri, local: c.local ?? false, relay: c.relay ?? false })),
  };
}
