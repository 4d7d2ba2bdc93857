/**
 * Which Seerr user a MediaNest user is: a Plex-linked user by Plex account id, others by email (both from Seerr's
 * user list), or as an admin set it by hand; a user Seerr does not know yet is imported from Plex when the admin
 * allows it. The answer is kept as a link row, so only a user's first request looks through Seerr's list.
 */
import type { SeerrClient } from "../integrations/seerr/client";
import type { SeerrUser } from "../integrations/seerr/types";
import { findSetting, upsertSetting } from "../store/settings";
import {
  deleteSeerrLink,
  findSeerrLink,
  findSeerrLinkBySeerrUser,
  type SeerrLink,
  upsertSeerrLink,
} from "../store/media-requests";
import { findUserById, type User } from "../store/users";
import { type Actor, audit } from "./audit";
import type { SeerrDeps } from "./seerr";

/** How a link was made. */
export type LinkHow = SeerrLink["how"];

/** A user's Seerr account could not be found or made; the message says what to do. */
export class SeerrAccountMissing extends Error {
  override readonly name = "SeerrAccountMissing";
}

const PAGE = 100;
// Seerr instances are households: a few hundred users at most. The bound keeps a broken server from looping us.
const MAX_PAGES = 50;
const IMPORT_SETTING = "seerr.import_plex_users";

/** True when the admin lets MediaNest import Plex users into Seerr at their first request. */
export async function importAllowed(deps: Pick<SeerrDeps, "database" | "secretBox">): Promise<boolean> {
  return (await findSetting(deps.database, deps.secretBox, IMPORT_SETTING)) === "1";
}

/** Allow or forbid importing Plex users into Seerr. */
export async function setImportAllowed(deps: Pick<SeerrDeps, "database" | "secretBox">, on: boolean): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, IMPORT_SETTING, on ? "1" : "0");
}

/** Walk Seerr's user list (as the API key's owner) until `pick` finds one. */
export async function findSeerrUser(
  client: SeerrClient,
  pick: (u: SeerrUser) => boolean,
): Promise<SeerrUser | undefined> {
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await client.listUsers({ take: PAGE, skip: page * PAGE });
    const hit = list.results.find(pick);
    if (hit) return hit;
    if (list.results.length < PAGE || page + 1 >= list.pages) return undefined;
  }
  return undefined;
}

/** List every user Seerr has (as the API key's owner), a page at a time, bounded like findSeerrUser. */
export async function listAllSeerrUsers(client: SeerrClient): Promise<SeerrUser[]> {
  const all: SeerrUser[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await client.listUsers({ take: PAGE, skip: page * PAGE });
    all.push(...list.results);
    if (list.results.length < PAGE || page + 1 >= list.pages) break;
  }
  return all;
}

/** The words the pages use for how a link was made. */
export const LINK_HOW_LABELS: Record<LinkHow, string> = {
  plex: "matched by Plex account",
  email: "matched by email address",
  imported: "imported into Seerr from Plex by MediaNest",
  manual: "set by hand by an administrator",
};

/** A link an admin asked for cannot be made; the message names why, for the form's field. */
export class SeerrLinkRefused extends Error {
  override readonly name = "SeerrLinkRefused";
  readonly field = "seerrUserId";
}

/**
 * Link a MediaNest user to a Seerr user by hand (an admin's choice from Seerr's user list). A hand-set link is kept
 * by automatic matching and the sync job; another user's automatic link to the same Seerr user gives way, another
 * hand-set one does not. Throws SeerrLinkRefused (unknown user, taken by hand) or IntegrationError (Seerr failing).
 */
export async function linkSeerrUserByHand(
  deps: SeerrDeps,
  client: SeerrClient,
  actor: Actor,
  user: User,
  seerrUserId: number,
): Promise<SeerrLink> {
  const found = (await listAllSeerrUsers(client)).find((s) => s.id === seerrUserId);
  if (!found) throw new SeerrLinkRefused(`Seerr has no user ${seerrUserId}. Choose one from Seerr's list.`);
  const other = await findSeerrLinkBySeerrUser(deps.database, found.id);
  if (other && other.userId !== user.id) {
    if (other.how === "manual") {
      const holder = await findUserById(deps.database, other.userId);
      throw new SeerrLinkRefused(
        `Seerr user ${found.displayName} is already linked by hand to ${holder?.displayName ?? "another account"}. Clear that link first.`,
      );
    }
    await deleteSeerrLink(deps.database, other.userId);
  }
  const before = await findSeerrLink(deps.database, user.id);
  const row: SeerrLink = {
    userId: user.id,
    seerrUserId: found.id,
    seerrName: found.displayName,
    how: "manual",
    linkedAt: new Date(),
  };
  await upsertSeerrLink(deps.database, row);
  await audit(
    deps,
    actor,
    "user.seerr_link",
    { type: "user", id: user.id },
    {
      username: user.username,
      seerrUserId: found.id,
      seerrName: found.displayName,
      from: before ? { seerrUserId: before.seerrUserId, how: before.how } : null,
      ...(other && other.userId !== user.id ? { takenFrom: other.userId } : {}),
    },
  );
  return row;
}

/** Remove a user's Seerr link (an admin's choice); their next request matches them again automatically. */
export async function clearSeerrLink(deps: SeerrDeps, actor: Actor, user: User): Promise<boolean> {
  const before = await findSeerrLink(deps.database, user.id);
  if (!before) return false;
  await deleteSeerrLink(deps.database, user.id);
  await audit(
    deps,
    actor,
    "user.seerr_unlink",
    { type: "user", id: user.id },
    { username: user.username, seerrUserId: before.seerrUserId, how: before.how },
  );
  return true;
}

/** Tell whether a Seerr user is this MediaNest user: the same Plex account, or (for others) the same email. */
export function sameAccount(user: Pick<User, "plexId" | "email">, s: Pick<SeerrUser, "plexId" | "email">): boolean {
  if (user.plexId != null && s.plexId != null) return user.plexId === s.plexId;
  return !!user.email && !!s.email && user.email.toLowerCase() === s.email.toLowerCase();
}

async function link(deps: SeerrDeps, user: User, s: SeerrUser, how: LinkHow): Promise<SeerrLink> {
  const row: SeerrLink = { userId: user.id, seerrUserId: s.id, seerrName: s.displayName, how, linkedAt: new Date() };
  // Another MediaNest user may hold a stale automatic link to the same Seerr user (an account re-created): the
  // one that matches now wins; a link an admin set by hand is never taken over.
  const other = await findSeerrLinkBySeerrUser(deps.database, s.id);
  if (other && other.userId !== user.id) {
    if (other.how === "manual")
      throw new SeerrAccountMissing(
        `Seerr user ${s.displayName} is linked by hand to another MediaNest account. Ask the admin to fix the link.`,
      );
    await deleteSeerrLink(deps.database, other.userId);
  }
  await upsertSeerrLink(deps.database, row);
  return row;
}

/**
 * Return the Seerr user a MediaNest user acts as; finds (and remembers) it on first use, importing the user from
 * Plex when allowed. Throws SeerrAccountMissing with a message for the user when there is none.
 */
export async function seerrAccountFor(deps: SeerrDeps, client: SeerrClient, user: User): Promise<SeerrLink> {
  const known = await findSeerrLink(deps.database, user.id);
  if (known) return known;
  const found = await findSeerrUser(client, (s) => sameAccount(user, s));
  if (found) return link(deps, user, found, user.plexId != null && found.plexId != null ? "plex" : "email");
  if (user.plexId != null && (await importAllowed(deps))) {
    const created = await client.importFromPlex([user.plexId]);
    const made =
      created.find((s) => s.plexId === user.plexId) ?? (await findSeerrUser(client, (s) => s.plexId === user.plexId));
    if (made) return link(deps, user, made, "imported");
    throw new SeerrAccountMissing(
      "Seerr could not import your Plex account (is the Plex server shared with you in Seerr's Plex settings?). Ask the admin.",
    );
  }
  throw new SeerrAccountMissing(
    user.plexId != null
      ? "You have no Seerr account yet. Ask the admin to import you into Seerr (or to let MediaNest do it)."
      : "You have no Seerr account yet, and MediaNest found none with your email address. Ask the admin to link one.",
  );
}

/** Forget an automatic link that Seerr no longer honours (the account is gone); a manual one stays for the admin. */
export async function dropStaleLink(deps: SeerrDeps, l: SeerrLink): Promise<boolean> {
  if (l.how === "manual") return false;
  await deleteSeerrLink(deps.database, l.userId);
  return true;
}
