/** Links into Plex's own apps for items on our server. */

const PLEX_WEB = "https://app.plex.tv/desktop";

/** Build the app.plex.tv web link that opens an item of our server (by its machineIdentifier) in Plex. */
export function plexWebUrl(machineIdentifier: string, ratingKey: string): string {
  const key = encodeURIComponent(`/library/metadata/${ratingKey}`);
  return `${PLEX_WEB}/#!/server/${encodeURIComponent(machineIdentifier)}/details?key=${key}`;
}
