import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../deps";

/** Set security headers with a strict CSP: scripts and styles only from this origin, no inline script. */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // Views use style="" attributes for layout details (widths, progress bars); stylesheets come from /static.
      styleSrc: ["'self'", "'unsafe-inline'"],
      // Plex account avatars come from plex.tv; every other image is ours (Plex posters go through /img/plex).
      imgSrc: ["'self'", "data:", "https://plex.tv", "https://*.plex.tv"],
      connectSrc: ["'self'"],
      formAction: ["'self'", "https://app.plex.tv"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      objectSrc: ["'none'"],
    },
    referrerPolicy: "same-origin",
    crossOriginResourcePolicy: "same-origin",
    strictTransportSecurity: false,
    // Headers only Internet Explorer and Flash read: each costs a header write on every response for no one.
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
}
