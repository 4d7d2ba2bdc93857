/** Links into Plex's own apps for items on our server. */

const PLEX_WEB = "https://app.plex.tv/desktop";

/** Build the app.plex.tv web link that opens an item of our server (by its machineIdentifier) in Plex. */
export function plexWebUrl(machineIdentifier: string, ratingKey: string): string {
  const key = encodeURIComponent(`/library/metadata/${ratingKey}`);
  return `${PLEX_WEB}/#!/server/${encodeURIComponent(machineIdentifier)}/details?key=${key}`;
}

/** Build that link from what another service reported (Seerr's ratingKey); null when either part is missing or odd. */
export function plexWebUrlIfKnown(
  machineIdentifier: string | null | undefined,
  ratingKey: string | null | undefined,
): string | null {
  if (!machineIdentifier || !ratingKey || !/^\d+$/.test(ratingKey)) return null;
  return plexWebUrl(machineIdentifier, ratingKey);
}
