/** A fake plex.tv: PIN sign-in, /api/v2/user and /api/v2/resources, answering the wire shapes real plex.tv sends. */
import {
  type Fault,
  FaultQueue,
  type RecordedRequest,
  toXml,
  wantsJson,
  serveFake,
  type PayloadMode,
} from "./http-fake";

export interface FakeConnectionInput {
  uri: string;
  local?: boolean;
  relay?: boolean;
  protocol?: string;
  address?: string;
  port?: number;
}

export interface FakeResourceInput {
  clientIdentifier: string;
  name?: string;
  /** Comma-separated, as plex.tv sends it; default "server". */
  provides?: string;
  product?: string;
  owned?: boolean;
  accessToken?: string | null;
  connections?: FakeConnectionInput[];
}

export interface FakeUserInput {
  token: string;
  id: number;
  uuid?: string;
  username?: string;
  title?: string;
  email?: string | null;
  thumb?: string;
  resources?: FakeResourceInput[];
}

export interface FakePin {
  id: number;
  code: string;
  clientIdentifier: string;
  product: string;
  createdAt: Date;
  expiresAt: Date;
  authToken: string | null;
  expired: boolean;
}

export interface FakePlexTvOptions {
  /** PIN lifetime in seconds (plex.tv: 900). */
  pinLifetimeSeconds?: number;
  /** How long a "timeout" fault holds a request. */
  holdMs?: number;
  /** Rewrite every free-text field of the answers (titles, names, texts), e.g. with script payloads; off by default. */
  payload?: PayloadMode;
}

export interface FakePlexTv {
  url: string;
  requests: RecordedRequest[];
  pins: Map<number, FakePin>;
  /** Approve a PIN as if the user signed in on app.plex.tv; the next poll gets the token. */
  approvePin(id: number, token: string): void;
  /** Expire a PIN; polls now get 404 code 1020. */
  expirePin(id: number): void;
  /** Register an account reachable with `token`, and the devices it can see. */
  addUser(user: FakeUserInput): void;
  /** Answer the next request with a fault instead of the real route. */
  failNext(fault: Fault): void;
  /** Turn the payload mode on (a function) or off (undefined) for the answers from now on. */
  setPayloadMode(mode: PayloadMode | undefined): void;
  /** Return the most recently created PIN. */
  lastPin(): FakePin | undefined;
  stop(): Promise<void>;
}

/** Start a fake plex.tv on a random port. */
export function startFakePlexTv(opts: FakePlexTvOptions = {}): FakePlexTv {
  let payloadMode: PayloadMode | undefined = opts.payload;
  const lifetime = opts.pinLifetimeSeconds ?? 900;
  const requests: RecordedRequest[] = [];
  const pins = new Map<number, FakePin>();
  const users = new Map<string, FakeUserInput>();
  const faults = new FaultQueue((status) => plexTvError(status, status, "Injected failure"), opts.holdMs);
  let nextPinId = 308667304;

  function answer(req: RecordedRequest, status: number, body: unknown, xmlName: string): Response {
    if (!wantsJson(req)) {
      // Without Accept: application/json plex.tv answers XML; a client that forgets the header must notice.
      return new Response(toXml(xmlName, body), { status, headers: { "content-type": "application/xml" } });
    }
    return Response.json(body, { status });
  }

  function tokenOf(req: RecordedRequest): string | undefined {
    return req.headers["x-plex-token"] ?? req.query["X-Plex-Token"];
  }

  function route(req: RecordedRequest): Response {
    const { method, path } = req;
    if (path.startsWith("/api/v2/") && !req.headers["x-plex-client-identifier"]) {
      return plexTvError(400, 1000, "X-Plex-Client-Identifier is missing");
    }
    if (method === "POST" && path === "/api/v2/pins") {
      const now = new Date();
      const pin: FakePin = {
        id: nextPinId++,
        code: randomCode(req.query.strong === "true" ? 25 : 4),
        clientIdentifier: req.headers["x-plex-client-identifier"] ?? "",
        product: req.headers["x-plex-product"] ?? "",
        createdAt: now,
        expiresAt: new Date(now.getTime() + lifetime * 1000),
        authToken: null,
        expired: false,
      };
      pins.set(pin.id, pin);
      return answer(req, 201, pinWire(pin), "pin");
    }
    const pinMatch = /^\/api\/v2\/pins\/([^/]+)$/.exec(path);
    if (method === "GET" && pinMatch) {
      const pin = pins.get(Number(pinMatch[1]));
      if (!pin || pin.expired || pin.expiresAt.getTime() <= Date.now()) {
        return plexTvError(404, 1020, "Code not found or expired");
      }
      return answer(req, 200, pinWire(pin), "pin");
    }
    if (method === "GET" && path === "/api/v2/user") {
      const user = users.get(tokenOf(req) ?? "");
      if (!user) return plexTvError(401, 1001, "User could not be authenticated");
      return answer(req, 200, userWire(user), "user");
    }
    if (method === "GET" && path === "/api/v2/resources") {
      const user = users.get(tokenOf(req) ?? "");
      if (!user) return plexTvError(401, 1001, "User could not be authenticated");
      const wire = (user.resources ?? []).map((r) => resourceWire(r, user));
      return answer(req, 200, wire, "resource");
    }
    return plexTvError(404, 1002, "Not found");
  }

  const server = serveFake(requests, faults, route, () => payloadMode);

  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    pins,
    approvePin(id, token) {
      const pin = pins.get(id);
      if (!pin) throw new Error(`fake plex.tv: no pin ${id}`);
      pin.authToken = token;
    },
    expirePin(id) {
      const pin = pins.get(id);
      if (!pin) throw new Error(`fake plex.tv: no pin ${id}`);
      pin.expired = true;
    },
    addUser(user) {
      users.set(user.token, user);
    },
    setPayloadMode(mode) {
      payloadMode = mode;
    },
    failNext(fault) {
      faults.push(fault);
    },
    lastPin() {
      return [...pins.values()].at(-1);
    },
    async stop() {
      faults.releaseAll();
      await server.stop(true);
    },
  };
}

/** Answer plex.tv's error envelope. */
function plexTvError(status: number, code: number, message: string): Response {
  return Response.json({ errors: [{ code, message, status }] }, { status });
}

/** Format a date the way plex.tv does (no milliseconds). */
function plexTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function randomCode(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function pinWire(pin: FakePin) {
  return {
    id: pin.id,
    code: pin.code,
    product: pin.product,
    trusted: false,
    qr: `https://plex.tv/api/v2/pins/qr/${pin.code}`,
    clientIdentifier: pin.clientIdentifier,
    location: {
      code: "NL",
      european_union_member: true,
      continent_code: "EU",
      country: "Netherlands",
      city: "Amsterdam",
      time_zone: "Europe/Amsterdam",
      postal_code: "1012",
      in_privacy_restricted_country: true,
      in_privacy_restricted_region: true,
      subdivisions: "North Holland",
      coordinates: "52.3740, 4.8897",
    },
    expiresIn: Math.max(0, Math.round((pin.expiresAt.getTime() - Date.now()) / 1000)),
    createdAt: plexTime(pin.createdAt),
    expiresAt: plexTime(pin.expiresAt),
    authToken: pin.authToken,
    newRegistration: null,
  };
}

function userWire(u: FakeUserInput) {
  const uuid = u.uuid ?? `uuid-${u.id}`;
  return {
    id: u.id,
    uuid,
    username: u.username ?? `user${u.id}`,
    title: u.title ?? u.username ?? `user${u.id}`,
    email: u.email === undefined ? `user${u.id}@example.com` : u.email,
    friendlyName: "",
    locale: null,
    confirmed: true,
    joinedAt: 1600000000,
    emailOnlyAuth: false,
    hasPassword: true,
    protected: false,
    thumb: u.thumb ?? `https://plex.tv/users/${uuid}/avatar?c=1700000000`,
    authToken: u.token,
    mailingListStatus: "unsubscribed",
    mailingListActive: false,
    scrobbleTypes: "",
    country: "NL",
    subscription: {
      active: false,
      subscribedAt: null,
      status: "Inactive",
      paymentService: null,
      plan: null,
      features: [],
    },
    subscriptionDescription: null,
    restricted: false,
    anonymous: null,
    home: false,
    guest: false,
    homeSize: 1,
    homeAdmin: false,
    maxHomeSize: 15,
    rememberExpiresAt: 1900000000,
    profile: {
      autoSelectAudio: true,
      defaultAudioLanguage: "en",
      defaultSubtitleLanguage: "en",
      autoSelectSubtitle: 0,
      defaultSubtitleAccessibility: 0,
      defaultSubtitleForced: 1,
      watchedIndicator: 1,
      mediaReviewsVisibility: 0,
    },
    entitlements: [],
    roles: [],
    services: [],
    adsConsent: null,
    adsConsentSetAt: null,
    adsConsentReminderAt: null,
    experimentalFeatures: false,
    twoFactorEnabled: false,
    backupCodesCreated: false,
  };
}

function resourceWire(r: FakeResourceInput, user: FakeUserInput) {
  const provides = r.provides ?? "server";
  const isServer = provides.split(",").includes("server");
  const owned = r.owned ?? true;
  return {
    name: r.name ?? (isServer ? "Plex Server" : "Plex Web"),
    product: r.product ?? (isServer ? "Plex Media Server" : "Plex Web"),
    productVersion: isServer ? "1.41.3.9314-a0bfb8370" : "4.145.1",
    platform: isServer ? "Linux" : "Firefox",
    platformVersion: isServer ? "6.1.0" : "133.0",
    device: isServer ? "PC" : "Linux",
    clientIdentifier: r.clientIdentifier,
    createdAt: "2023-05-01T10:00:00Z",
    lastSeenAt: "2026-11-22T01:00:00Z",
    provides,
    ownerId: owned ? null : 1,
    sourceTitle: owned ? null : "owner",
    publicAddress: "203.0.113.7",
    accessToken: r.accessToken === undefined ? `access-${user.token}-${r.clientIdentifier}` : r.accessToken,
    owned,
    home: false,
    synced: false,
    relay: true,
    presence: true,
    httpsRequired: false,
    publicAddressMatches: true,
    dnsRebindingProtection: false,
    natLoopbackSupported: false,
    connections: (r.connections ?? []).map((c) => ({
      protocol: c.protocol ?? new URL(c.uri).protocol.replace(":", ""),
      address: c.address ?? new URL(c.uri).hostname,
      port: c.port ?? Number(new URL(c.uri).port || 32400),
      uri: c.uri,
      local: c.local ?? true,
      relay: c.relay ?? false,
      IPv6: false,
    })),
  };
}
