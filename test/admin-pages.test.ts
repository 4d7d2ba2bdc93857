// What a new admin meets on a fresh install: sign-in bookkeeping, wording, and the admin pages' own forms.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { audit } from "../src/services/audit";
import { findUserById } from "../src/store/users";
import { CookieJar } from "./helpers/cookie-jar";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

let t: TestApp;

beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

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

  test("the jobs page says schedules in words and explains singleton jobs without jargon", async () => {
    const admin = await signIn(t, await givenAdmin());
    const html = await (await admin.get("/admin/jobs")).text();
    expect(html).toContain("Every minute");
    expect(html).toContain("Every 10 seconds");
    expect(html).toContain("on one server at a time");
    expect(html).not.toContain("replica");
    expect(html).not.toMatch(/>\s*0 \* \* \* \* \*\s*</);
    expect(html).toContain('title="cron: 0 * * * * *"');
  });
});
