/**
 * Reconcile stored requests with Seerr's request list, so a missed webhook never leaves a state stale: states
 * followed, requests made in Seerr's own UI by MediaNest users stored, requests gone from Seerr marked removed (each
 * confirmed on its own first), links to Seerr users that no longer exist dropped.
 */
import { deleteSeerrLink, listOpenMediaRequests, listSeerrLinks } from "../store/media-requests";
import { followRemote, markRemoved } from "./media-requests";
import { configuredSeerr, type ConfiguredSeerr, type SeerrDeps } from "./seerr";

const PAGE = 100;
// A household's Seerr holds a few thousand requests at most; the bound keeps a broken server from looping us.
const MAX_PAGES = 100;
// Requests missing from the list are each asked for again before being marked removed; at most this many a run.
const MAX_CONFIRMS = 50;

/** What one sync did, for the jobs page. */
export interface SyncReport {
  seen: number;
  changed: number;
  adopted: number;
  unlinked: number;
  removed: number;
  linksDropped: number;
}

async function seerrUserIds(seerr: ConfiguredSeerr): Promise<Set<number> | undefined> {
  const ids = new Set<number>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await seerr.client.listUsers({ take: PAGE, skip: page * PAGE });
    for (const u of list.results) ids.add(u.id);
    if (list.results.length < PAGE || page + 1 >= list.pages) return ids;
  }
  // The list did not end: too uncertain to drop links by.
  return undefined;
}

/** Run one reconciliation with the configured Seerr; undefined when none is configured. */
export async function syncRequests(deps: SeerrDeps): Promise<SyncReport | undefined> {
  const seerr = await configuredSeerr(deps);
  if (!seerr) return undefined;
  const report: SyncReport = { seen: 0, changed: 0, adopted: 0, unlinked: 0, removed: 0, linksDropped: 0 };
  const seen = new Set<number>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await seerr.client.listRequests({ take: PAGE, skip: page * PAGE, sort: "modified" });
    for (const remote of list.results) {
      seen.add(remote.id);
      const outcome = await followRemote(deps, seerr, remote);
      if (outcome.kind === "changed") report.changed++;
      else if (outcome.kind === "adopted") report.adopted++;
      else if (outcome.kind === "unlinked") report.unlinked++;
    }
    if (list.results.length < PAGE || page + 1 >= list.pages) break;
  }
  report.seen = seen.size;

  let confirms = 0;
  for (const row of await listOpenMediaRequests(deps.database, seerr.cacheId)) {
    if (seen.has(row.seerrRequestId)) continue;
    if (confirms++ >= MAX_CONFIRMS) break;
    const remote = await seerr.client.getRequest(row.seerrRequestId);
    if (!remote) {
      await markRemoved(deps, row);
      report.removed++;
    } else if ((await followRemote(deps, seerr, remote)).kind === "changed") report.changed++;
  }

  const links = await listSeerrLinks(deps.database);
  if (links.length > 0) {
    const ids = await seerrUserIds(seerr);
    for (const link of links) {
      if (!ids || ids.has(link.seerrUserId)) continue;
      // Found again (or imported) at the person's next request; a link set by hand is said in the log.
      await deleteSeerrLink(deps.database, link.userId);
      report.linksDropped++;
      deps.log.warn("request sync: a linked Seerr user no longer exists; the link is dropped", {
        user: link.userId,
        seerrUser: link.seerrUserId,
        how: link.how,
      });
    }
  }
  return report;
}

/** Say a sync's report in words (the jobs page's last result). */
export function describeSync(r: SyncReport | undefined): string {
  if (!r) return "no Seerr configured";
  return `${r.seen} requests in Seerr: ${r.changed} changed, ${r.adopted} new from Seerr, ${r.removed} removed in Seerr, ${r.unlinked} by people MediaNest does not know, ${r.linksDropped} links to vanished Seerr users dropped`;
}
