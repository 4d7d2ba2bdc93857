// What a new admin meets on a fresh install: sign-in bookkeeping, wording, and the admin pages' own forms.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
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
