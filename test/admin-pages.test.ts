// What a new admin meets on a fresh install: sign-in bookkeeping, wording, and the admin pages' own forms.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { join } from "node:path";
import { AUDIT_ACTIONS, audit } from "../src/services/audit";
import { savePlexServer } from "../src/services/auth-settings";
import { listAuditEntries } from "../src/store/audit";
import { listSessionsByUser } from "../src/store/sessions";
import { findUserById, listUsers } from "../src/store/users";
import { CookieJar } from "./helpers/cookie-jar";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

let t: TestApp;

beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const ROOT = join(import.meta.dir, "..");

/** Split a call's argument list (the text after its opening parenthesis) at its top-level commas. */
function callArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) {
      if (depth === 0) {
        args.push(text.slice(start, i).trim());
        return args;
      }
      depth--;
    } else if (ch === "," && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error("unclosed call");
}

/** Every action audit() is called with under src/, by where; a call whose action is not written out says so. */
async function writtenAuditActions(): Promise<{ at: string; action: string }[]> {
  const out: { at: string; action: string }[] = [];
  for await (const file of new Glob("src/**/*.{ts,tsx}").scan(ROOT)) {
    if (file.includes(".test.")) continue;
    const text = await Bun.file(join(ROOT, file)).text();
    for (const m of text.matchAll(/(?<![\w.$]|function )audit\(/g)) {
      const before = text.slice(0, m.index);
      if (/^\s*(\/\/|\/\*|\*)/.test(before.slice(before.lastIndexOf("\n") + 1))) continue; // a comment
      const at = `${file}:${before.split("\n").length}`;
      const action = callArguments(text.slice(m.index + m[0].length))[2] ?? "";
      // A literal, or a choice between two literals.
      const literals = /^(?:[^?]+\?\s*"([^"]+)"\s*:\s*)?"([^"]+)"$/s.exec(action);
      if (!literals) out.push({ at, action: `not a literal: ${action}` });
      else for (const a of literals.slice(1)) if (a) out.push({ at, action: a });
    }
  }
  return out;
}

async function givenAdmin() {
  return givenUser(t.deps, {
    role: "admin",
    username: "owner",
    displayName: "Olivia Owner",
    passwordHash: await Bun.password.hash("owner-password-1"),
  });
}

describe("sign-in bookkeeping", () => {
  test("a password sign-in records the last sign-in, which Admin → Users shows", async () => {
    const owner = await givenAdmin();
    const member = await givenUser(t.deps, {
      username: "maria",
      displayName: "Maria Member",
      passwordHash: await Bun.password.hash("maria-password-1"),
    });
    expect(member.lastLoginAt).toBeNull();
    const before = Date.now();
    const jar = new CookieJar(t);
    await jar.get("/login");
    expect((await jar.post("/login", { username: "maria", password: "maria-password-1" })).status).toBe(303);
    const after = (await findUserById(t.deps.database, member.id))!;
    expect(after.lastLoginAt).not.toBeNull();
    expect(after.lastLoginAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    // A wrong password is no sign-in.
    const other = new CookieJar(t);
    await other.get("/login");
    expect((await other.post("/login", { username: "owner", password: "wrong-password" })).status).toBe(401);
    expect((await findUserById(t.deps.database, owner.id))!.lastLoginAt).toBeNull();

    const admin = await signIn(t, owner);
    const html = await (await admin.get("/admin/users?q=maria")).text();
    const row = html.slice(html.indexOf("Maria Member"));
    expect(row.slice(0, row.indexOf("</tr>"))).not.toContain("never");
    expect(row.slice(0, row.indexOf("</tr>"))).toContain(`datetime="${after.lastLoginAt!.toISOString()}"`);
  });
});

describe("wording", () => {
  test("counts of one read in the singular: 1 account, 1 administrator, 1 user, 1 entry", async () => {
    const owner = await givenAdmin();
    const admin = await signIn(t, owner);
    const home = await (await admin.get("/admin")).text();
    expect(home).toContain("1 account, 1 administrator.");
    expect(home).not.toMatch(/\b1 accounts|\b1 administrators/);
    const users = await (await admin.get("/admin/users")).text();
    expect(users).toContain("1 user · page 1 of 1");

    await givenUser(t.deps, { username: "maria" });
    expect(await (await admin.get("/admin")).text()).toContain("2 accounts, 1 administrator.");
    expect(await (await admin.get("/admin/users")).text()).toContain("2 users · page 1 of 1");

    await admin.post("/admin/notice", { text: "Plex restarts at 23:00." });
    expect(await (await admin.get("/admin/audit")).text()).toContain("1 entry · page 1 of 1");
  });
});

describe("the audit log and the jobs page speak plainly", () => {
  test("audit details read as labelled values, not JSON; actions have words", async () => {
    const owner = await givenAdmin();
    const admin = await signIn(t, owner);
    await audit(
      t.deps,
      { user: owner, ip: "192.0.2.1" },
      "settings.change",
      { type: "settings", id: "x" },
      {
        url: "http://plex.local:32400",
        credentialsUpdated: true,
        libraries: [{ section: "Movies", folder: "/data/movies" }],
      },
    );
    const page = await (await admin.get("/admin/audit")).text();
    const html = page.slice(page.indexOf("<main"));
    expect(html).not.toContain("{&quot;");
    expect(html).not.toContain('{"url"');
    expect(html).toContain("<dt>Credentials updated</dt><dd>yes</dd>");
    expect(html).toContain("<dt>Url</dt><dd>http://plex.local:32400</dd>");
    expect(html).toContain("<dt>Libraries</dt><dd>section: Movies, folder: /data/movies</dd>");
    expect(html).toContain("Settings changed");
    // The filter offers the words too, and still filters by the action's code.
    expect(html).toContain('<option value="signin.success">Signed in</option>');
    const filtered = await (await admin.get("/admin/audit?action=signin.success")).text();
    expect(filtered).not.toContain("Settings changed</td>");
  });

  test("every action written to the audit log has words, and the filter offers each (and only those written)", async () => {
    const written = await writtenAuditActions();
    // The scan sees the calls (some span lines, some choose between two actions).
    expect(written.length).toBeGreaterThan(50);
    expect(written.map((w) => w.action)).toContain("request.decline");
    expect(written.filter((w) => !Object.hasOwn(AUDIT_ACTIONS, w.action))).toEqual([]);
    const unused = Object.keys(AUDIT_ACTIONS).filter((a) => !written.some((w) => w.action === a));
    expect(unused).toEqual([]);

    const owner = await givenAdmin();
    const admin = await signIn(t, owner);
    await audit(t.deps, { user: owner }, "request.create", { type: "request", id: "r1" }, { title: "Dune (2021)" });
    const html = await (await admin.get("/admin/audit")).text();
    for (const [action, label] of Object.entries(AUDIT_ACTIONS))
      expect(html).toContain(`<option value="${action}">${label.replaceAll("'", "&#39;")}</option>`);
    const filtered = await (await admin.get("/admin/audit?action=request.create")).text();
    expect(filtered).toContain('<option value="request.create" selected="">Request made</option>');
    expect(filtered).toContain("1 entry");
    expect(filtered).toContain("Dune (2021)");
  });

  test("the jobs page says schedules in words and explains singleton jobs without jargon", async () => {
    const admin = await signIn(t, await givenAdmin());
    const html = await (await admin.get("/admin/jobs")).text();
    expect(html).toContain("Every minute");
    expect(html).toContain("Every 10 seconds");
    expect(html).toContain("on one server at a time");
    const intro = html.slice(html.indexOf('<p class="muted">'), html.indexOf('<div id="jobs-table">'));
    expect(intro).toContain("on one server at a time");
    expect(intro).not.toMatch(/replica|[Ss]ingleton/);
    expect(html).not.toMatch(/>\s*0 \* \* \* \* \*\s*</);
    expect(html).toContain('title="cron: 0 * * * * *"');
  });
});

describe("Plex only where a Plex server is chosen", () => {
  test("the login page offers Plex only once a server is chosen; a PIN is refused before", async () => {
    await givenAdmin();
    const before = await (await t.request("/login")).text();
    expect(before).not.toContain("Sign in with Plex");
    const jar = new CookieJar(t);
    await jar.get("/login");
    const pin = await jar.post("/auth/plex/pin", { purpose: "login" }, { "hx-request": "true" });
    expect(pin.status).toBe(409);
    expect(await pin.text()).toContain("No Plex server is chosen yet");

    await savePlexServer(t.deps, { machineIdentifier: "m-1", name: "Living Room", url: null, ownerToken: "owner" });
    expect(await (await t.request("/login")).text()).toContain("Sign in with Plex");
  });

  test("adding a Plex user is refused, with the reason, until a Plex server is chosen", async () => {
    const admin = await signIn(t, await givenAdmin());
    const page = await (await admin.get("/admin/new-user")).text();
    expect(page).not.toContain("Add Plex user");
    expect(page).toContain("No Plex server is chosen yet");
    const refused = await admin.post("/admin/new-plex-user", { plexName: "grandma", role: "user" });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("No Plex server is chosen yet");
    expect((await listUsers(t.deps.database)).total).toBe(1);

    await savePlexServer(t.deps, { machineIdentifier: "m-1", name: "Living Room", url: null, ownerToken: "owner" });
    expect(await (await admin.get("/admin/new-user")).text()).toContain("Add Plex user");
    const added = await admin.post("/admin/new-plex-user", { plexName: "grandma", role: "user" });
    expect(added.status).toBe(303);
    const shown = await (await admin.get(added.headers.get("location")!)).text();
    expect(shown).toContain("Their first sign-in with Plex as “grandma” claims this account.");
  });
});

describe("the user editor", () => {
  test("creating a local user confirms it on the user's page", async () => {
    const admin = await signIn(t, await givenAdmin());
    const res = await admin.post("/admin/new-user", {
      username: "maria",
      displayName: "Maria Member",
      password: "a-long-password-1",
      role: "user",
    });
    expect(res.status).toBe(303);
    const html = await (await admin.get(res.headers.get("location")!)).text();
    expect(html).toContain('role="status"');
    expect(html).toContain("Maria Member was added. They sign in with the user name maria and the password you chose.");
    // The confirmation belongs to that one answer, not to every later visit of the page.
    const later = await (await admin.get(res.headers.get("location")!.split("?")[0]!)).text();
    expect(later).not.toContain("was added");
  });

  test("an admin renames a user: audited, and an empty name is a 422 naming the field", async () => {
    const owner = await givenAdmin();
    const admin = await signIn(t, owner);
    const member = await givenUser(t.deps, { username: "maria", displayName: "Maria" });
    const bad = await admin.post(`/admin/users/${member.id}/profile`, { displayName: "   " });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Enter a display name.");
    const ok = await admin.post(
      `/admin/users/${member.id}/profile`,
      { displayName: "Maria Member" },
      {
        "hx-request": "true",
      },
    );
    expect(ok.status).toBe(200);
    const fragment = await ok.text();
    expect(fragment.startsWith('<section aria-labelledby="user-title" id="user-editor">')).toBe(true);
    expect(fragment).toContain("Name saved.");
    expect((await findUserById(t.deps.database, member.id))!.displayName).toBe("Maria Member");
    const { entries } = await listAuditEntries(t.deps.database, { action: "user.profile_change" });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.actorId).toBe(owner.id);
    expect(entries[0]!.detail).toEqual({ from: "Maria", to: "Maria Member" });
    // Members may not.
    const memberBrowser = await signIn(t, member);
    expect((await memberBrowser.post(`/admin/users/${member.id}/profile`, { displayName: "Boss" })).status).toBe(403);
  });

  // Several argon2id hashes: more than the default five seconds on a busy machine.
  test("an admin resets a local user's password: 422 field errors, audited, every session of that user ends", {
    timeout: 30_000,
  }, async () => {
    const owner = await givenAdmin();
    const admin = await signIn(t, owner);
    const member = await givenUser(t.deps, {
      username: "maria",
      displayName: "Maria",
      passwordHash: await Bun.password.hash("old-password-1"),
    });
    const memberBrowser = await signIn(t, member);
    expect((await memberBrowser.get("/account")).status).toBe(200);
    const page = await (await admin.get(`/admin/users/${member.id}`)).text();
    expect(page).toContain("Set new password");

    const short = await admin.post(`/admin/users/${member.id}/password`, { password: "short", confirm: "short" });
    expect(short.status).toBe(422);
    expect(await short.text()).toContain("Use at least 10 characters.");
    const differ = await admin.post(`/admin/users/${member.id}/password`, {
      password: "new-password-22",
      confirm: "new-password-23",
    });
    expect(differ.status).toBe(422);
    expect(await differ.text()).toContain("The passwords differ.");
    expect(await listSessionsByUser(t.deps.database, member.id)).toHaveLength(1);

    const ok = await admin.post(`/admin/users/${member.id}/password`, {
      password: "new-password-22",
      confirm: "new-password-22",
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("New password set. Maria was signed out everywhere.");
    expect(await listSessionsByUser(t.deps.database, member.id)).toHaveLength(0);
    expect((await memberBrowser.get("/account")).status).toBe(303);
    const { entries } = await listAuditEntries(t.deps.database, { action: "user.password_reset" });
    expect(entries.map((e) => [e.actorId, e.targetId])).toEqual([[owner.id, member.id]]);
    expect(JSON.stringify(entries[0]!.detail)).not.toContain("new-password-22");

    const jar = new CookieJar(t);
    await jar.get("/login");
    expect((await jar.post("/login", { username: "maria", password: "old-password-1" })).status).toBe(401);
    expect((await jar.post("/login", { username: "maria", password: "new-password-22" })).status).toBe(303);
  });

  test("a Plex-only user has no password to reset, and an admin resets their own on the account page", async () => {
    const owner = await givenAdmin();
    const admin = await signIn(t, owner);
    const plexUser = await givenUser(t.deps, { username: "friend", plexId: 4242 });
    expect(await (await admin.get(`/admin/users/${plexUser.id}`)).text()).not.toContain("Set new password");
    const refused = await admin.post(`/admin/users/${plexUser.id}/password`, {
      password: "new-password-22",
      confirm: "new-password-22",
    });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("has no password to reset");
    expect((await findUserById(t.deps.database, plexUser.id))!.passwordHash).toBeNull();
    const self = await admin.post(`/admin/users/${owner.id}/password`, {
      password: "new-password-22",
      confirm: "new-password-22",
    });
    expect(self.status).toBe(409);
    expect(await self.text()).toContain("Change your own password on your account page.");
  });
});
