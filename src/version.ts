import pkg from "../package.json";

// Set by `bun run release` with --define; a plain `bun run build` (or `bun src/main.ts`) leaves them undefined.
declare const MEDIANEST_BUILD_COMMIT: string | undefined;
declare const MEDIANEST_BUILD_TIME: string | undefined;
declare const MEDIANEST_BUILD_TARGET: string | undefined;
declare const MEDIANEST_BUILD_RELEASE_URL: string | undefined;

/** The MediaNest version, from package.json at build time. */
export const VERSION: string = pkg.version;

/** The git commit the binary was built from, or "unknown" outside a release build. */
export const COMMIT: string = typeof MEDIANEST_BUILD_COMMIT === "string" ? MEDIANEST_BUILD_COMMIT : "unknown";

/** When the binary was built (ISO 8601, UTC), or "unknown" outside a release build. */
export const BUILD_TIME: string = typeof MEDIANEST_BUILD_TIME === "string" ? MEDIANEST_BUILD_TIME : "unknown";

/** The release asset this binary is (linux-x64, linux-arm64-musl, …), or undefined outside a release build. */
export const BUILD_TARGET: string | undefined =
  typeof MEDIANEST_BUILD_TARGET === "string" ? MEDIANEST_BUILD_TARGET : undefined;

/** Where `medianest upgrade` looks for releases unless MEDIANEST_RELEASE_URL says otherwise. */
export const RELEASE_URL: string =
  typeof MEDIANEST_BUILD_RELEASE_URL === "string"
    ? MEDIANEST_BUILD_RELEASE_URL
    : "https://github.com/medianest/medianest/releases/latest/download";

/** Format the lines `medianest version` prints. */
export function versionLines(): string[] {
  return [
    `medianest ${VERSION}`,
    `commit ${COMMIT}`,
    `built ${BUILD_TIME}`,
    ...(BUILD_TARGET ? [`target ${BUILD_TARGET}`] : []),
  ];
}
