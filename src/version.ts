import pkg from "../package.json";

/** The MediaNest version, from package.json at build time. */
export const VERSION: string = pkg.version;
