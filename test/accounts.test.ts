import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { restoreAdmin } from "../src/services/accounts";
import { savePlexServer } from "../src/services/auth-settings";
import { listAuditEntries } from "../src/store/audit";
import { findUserById, findUserByPlexId, listUsers } from "../src/store/users";
import { listSessionsByUser } from "../src/store/sessions";
import { startFakePlexTv, type FakePlexTv } from "./fakes/plex-tv";
import { CookieJar } from "./helpers/cookie-jar";
import { postgresAvailable, redisAvailable } from "./helpers/services";
import { createTestApp, givenUser, signIn, type Dialect, type TestApp } from "./helpers/test-app";

const MACHINE = "machine-abc123";
const SERVER = {
  clientIdentifier: MACHINE,
  name: "Living Room",
  provides: "server",
  owned: false,
  accessToken: "shared-token",
};

const variants: [Dialect, boolean, boolean][] = [
  ["sqlite", false, true],
  ["postgres", true, postgresAvailable && redisAvailable],
];

for (const [dialect, redis, available] of variants) {
  describe.skipIf(!available)(`accounts on ${dialect} + ${redis ? "redis" : "memory"}`, () => {
    let plextv: FakePlexTv;
    let t: TestApp;

    beforeAll(() => {
      plextv = startFakePlexTv();
    });
    afterAll(async () => {
      await plextv.stop();
    });
    beforeEach(async () => {
      t = await createTestApp({
        dialect,
        redis,
        env: { MEDIANEST_PLEX_TV_URL: plextv.url, MEDIANEST_PLEX_APP_URL: `${plextv.url}/auth` },
      });
    });
    afterEach(async () => {
      await t.close();
    });

    async function withAdmin() {
      return givenUser(t.deps, {
        role: "admin",
        username: "owner",
        passwordHash: await Bun.password.hash("owner-password-1"),
      });
    }

    test("every page leads to /setup until an admin exists; local setup creates one admin and signs in", async () => {
      const jar = new CookieJar(t);
      const home = await jar.get("/");
      expect(home.status).toBe(303);
      expect(home.headers.get("location")).toBe("/setup");
      expect((await jar.get("/admin/users")).headers.get("location")).toBe("/setup");
      expect((await jar.get("/setup")).status).toBe(200);

      const bad = await jar.post("/setup", { username: "a", password: "short", confirm: "other" });
      expect(bad.status).toBe(422);
      const html = await bad.text();
      expect(html).toContain("Use at least 2 characters.");
      expect(html).toContain("Use at least 10 characters.");
      expect(html).toContain("The passwords differ.");

      const ok = await jar.post("/setup", {
        username: "Owner",
        displayName: "The Owner",
        password: "correct-horse-1",
        confirm: "correct-horse-1",
      });
      expect(ok.status).toBe(303);
      expect(ok.headers.get("location")).toBe("/admin");
      expect((await jar.get("/admin")).status).toBe(200);
      const { users } = await listUsers(t.deps.database);
      expect(users.map((u) => [u.username, u.role])).toEqual([["owner", "admin"]]);
      expect((await jar.get("/setup")).status).toBe(303);
    });

    test("a signed-in browser before setup is sent to /setup too, never a 500", async () => {
      // A member whose session outlived the last admin, or one created before setup (medianest create-admin aside).
      const member = await signIn(t, await givenUser(t.deps));
      for (const path of ["/", "/status", "/account"]) {
        const res = await member.get(path);
        expect(res.status).toBe(303);
        expect(res.headers.get("location")).toBe("/setup");
      }
      const htmx = await member.get("/status", { "hx-request": "true" });
      expect(htmx.status).toBe(200);
      expect(htmx.headers.get("hx-redirect")).toBe("/setup");
      const post = await member.post("/notifications/all/read");
      expect(post.status).toBe(303);
      expect(post.headers.get("location")).toBe("/setup");
    });

    test("two browsers racing through setup leave exactly one admin", async () => {
      const a = new CookieJar(t);
      const b = new CookieJar(t);
      const results = await Promise.all([
        a.post("/setup", { username: "alice", password: "alice-password", confirm: "alice-password" }),
        b.post("/setup", { username: "bob", password: "bobby-password", confirm: "bobby-password" }),
        a.post("/setup", { username: "carol", password: "carol-password", confirm: "carol-password" }),
      ]);
      expect(results.filter((r) => r.status === 303)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(2);
      const { users } = await listUsers(t.deps.database);
      expect(users).toHaveLength(1);
      expect(users[0]!.role).toBe("admin");
    });

    test("setup with Plex: PIN flow, choose the owned server, owner becomes admin with an encrypted token", async () => {
      plextv.addUser({
        token: "owner-token",
        id: 1001,
        username: "OwnerPlex",
        title: "Owner Person",
        email: "owner@example.com",
        resources: [
          {
            clientIdentifier: MACHINE,
            name: "Living Room",
            provides: "server",
            owned: true,
            accessToken: "owner-server-token",
            connections: [{ uri: "http://192.168.1.5:32400", local: true }],
          },
          { clientIdentifier: "player-1", name: "Phone", provides: "player", owned: true },
        ],
      });
      const jar = new CookieJar(t);
      await jar.get("/setup");
      const pinRes = await jar.post("/auth/plex/pin", { purpose: "setup" }, { "hx-request": "true" });
      expect(pinRes.status).toBe(200);
      const pinHtml = await pinRes.text();
      const pin = plextv.lastPin()!;
      expect(pinHtml).toContain(`code=${pin.code}`);
      expect(pinHtml).toContain("forwardUrl=");
      const created = plextv.requests.find((r) => r.method === "POST" && r.path === "/api/v2/pins")!;
      expect(created.query.strong).toBe("true");
      expect(created.headers["x-plex-product"]).toBe("MediaNest");
      expect(created.headers["x-plex-client-identifier"]).toMatch(/^[0-9a-f-]{36}$/);

      const pending = await jar.get("/auth/plex/poll", { "hx-request": "true" });
      expect(await pending.text()).toContain("Waiting for you to approve");

      plextv.approvePin(pin.id, "owner-token");
      const choose = await jar.get("/auth/plex/poll", { "hx-request": "true" });
      const chooseHtml = await choose.text();
      expect(chooseHtml).toContain("Living Room");
      expect(chooseHtml).not.toContain("Phone");

      const done = await jar.post("/setup/plex-server", { server: MACHINE }, { "hx-request": "true" });
      expect(done.headers.get("hx-redirect")).toBe("/admin");
      const owner = (await findUserByPlexId(t.deps.database, 1001))!;
      expect(owner.role).toBe("admin");
      expect(owner.displayName).toBe("Owner Person");
      expect(owner.plexTokenEnc).not.toContain("owner-token");
      expect(t.deps.secretBox.decrypt(owner.plexTokenEnc!)).toBe("owner-token");
      expect(owner.plexTokenServer).toBe(MACHINE);
      const { db, tables } = t.deps.database;
      const rows = await db.select().from(tables.settings);
      const stored = Object.fromEntries(rows.map((r) => [r.key, r]));
      expect(stored["plex.machine_identifier"]!.value).toBe(MACHINE);
      expect(stored["plex.owner_token"]!.secret).toBe(true);
      expect(stored["plex.owner_token"]!.value).not.toContain("owner-token");
      expect((await jar.get("/admin")).status).toBe(200);
    });

    describe("with setup done", () => {
      beforeEach(async () => {
        await withAdmin();
        await savePlexServer(t.deps, {
          machineIdentifier: MACHINE,
          name: "Living Room",
          url: null,
          ownerToken: "owner-token",
        });
      });

      async function plexSignIn(jar: CookieJar, token: string) {
        await jar.get("/login");
        await jar.post("/auth/plex/pin", { next: "/account" }, { "hx-request": "true" });
        const pin = plextv.lastPin()!;
        plextv.approvePin(pin.id, token);
        return jar.get("/auth/plex/poll", { "hx-request": "true" });
      }

      test("a Plex user with access to our server signs in and gets an account with default permissions", async () => {
        plextv.addUser({
          token: "friend-token",
          id: 2002,
          username: "friend",
          title: "Friendly",
          thumb: "https://plex.tv/users/x/avatar",
          resources: [SERVER],
        });
        const jar = new CookieJar(t);
        const res = await plexSignIn(jar, "friend-token");
        expect(res.headers.get("hx-redirect")).toBe("/account");
        const user = (await findUserByPlexId(t.deps.database, 2002))!;
        expect(user.role).toBe("user");
        expect(user.permissions).toEqual(["request", "download"]);
        expect(t.deps.secretBox.decrypt(user.plexTokenEnc!)).toBe("shared-token");
        expect(user.plexTokenServer).toBe(MACHINE);
        const account = await jar.get("/account");
        expect(account.status).toBe(200);
        expect(await account.text()).toContain("Friendly");
        const userReq = plextv.requests.findLast((r) => r.path === "/api/v2/user")!;
        expect(userReq.headers["x-plex-token"]).toBe("friend-token");
        expect(userReq.headers.accept).toBe("application/json");

        // Name and avatar refresh at the next sign-in.
        plextv.addUser({
          token: "friend-token",
          id: 2002,
          username: "friend",
          title: "Renamed Friend",
          resources: [SERVER],
        });
        await plexSignIn(new CookieJar(t), "friend-token");
        expect((await findUserByPlexId(t.deps.database, 2002))!.displayName).toBe("Renamed Friend");
        const { users } = await listUsers(t.deps.database);
        expect(users.filter((u) => u.plexId === 2002)).toHaveLength(1);
      });

      test("a poll whose answer was lost (the popup closed first) does not lose the sign-in: the next poll gets it", async () => {
        plextv.addUser({ token: "popup-token", id: 2102, username: "popup", resources: [SERVER] });
        const jar = new CookieJar(t);
        await jar.get("/login");
        await jar.post("/auth/plex/pin", {}, { "hx-request": "true" });
        plextv.approvePin(plextv.lastPin()!.id, "popup-token");
        const before = new Map(jar.cookies);
        const [a, b] = await Promise.all([
          jar.get("/auth/plex/poll", { "hx-request": "true" }),
          jar.get("/auth/plex/poll", { "hx-request": "true" }),
        ]);
        expect([a, b].filter((r) => r.headers.get("hx-redirect") === "/").length).toBeGreaterThanOrEqual(1);
        jar.cookies = before; // the popup closed before its answer arrived: no session cookie, PIN cookie still there
        const replay = new Map(before);
        const next = await jar.get("/auth/plex/poll", { "hx-request": "true" });
        expect(next.headers.get("hx-redirect")).toBe("/");
        expect(jar.cookies.has("mn_session")).toBe(true);
        // A copied PIN cookie signs in once more at most, never again.
        jar.cookies = replay;
        const again = await jar.get("/auth/plex/poll", { "hx-request": "true" });
        expect(again.headers.get("hx-redirect")).toBeNull();
        expect(await again.text()).toContain("expired or was already used");
        jar.cookies = new Map(before);
        jar.cookies.set(
          "mn_session",
          next.headers
            .getSetCookie()
            .find((c) => c.startsWith("mn_session="))!
            .split(";")[0]!
            .slice("mn_session=".length),
        );
        expect((await jar.get("/account")).status).toBe(200);
        const { users } = await listUsers(t.deps.database);
        expect(users.filter((u) => u.plexId === 2102)).toHaveLength(1);
      });

      test("a Plex user without access to our server is refused politely and nothing is created", async () => {
        plextv.addUser({
          token: "stranger-token",
          id: 3003,
          username: "stranger",
          resources: [{ clientIdentifier: "other-machine", name: "Other", provides: "server" }],
        });
        const jar = new CookieJar(t);
        const res = await plexSignIn(jar, "stranger-token");
        expect(res.status).toBe(403);
        const html = await res.text();
        expect(html).toContain("has no access to the Plex server “Living Room”");
        expect(await findUserByPlexId(t.deps.database, 3003)).toBeUndefined();
        expect(jar.cookies.has("mn_session")).toBe(false);
        const { entries } = await listAuditEntries(t.deps.database, { action: "signin.failure" });
        expect(entries[0]!.detail).toMatchObject({ method: "plex", reason: "no server access" });
      });

      test("with automatic accounts off only listed Plex users get in", async () => {
        const admin = await signIn(t, (await listUsers(t.deps.database, { role: "admin" })).users[0]!);
        expect((await admin.post("/admin/settings/accounts", { permissions: ["request"] })).status).toBe(303);
        plextv.addUser({ token: "new-token", id: 4004, username: "newcomer", resources: [SERVER] });
        const res = await plexSignIn(new CookieJar(t), "new-token");
        expect(res.status).toBe(403);
        expect(await res.text()).toContain("only lets in people the owner has added");
        await givenUser(t.deps, { plexId: 4004, username: "listed" });
        const ok = await plexSignIn(new CookieJar(t), "new-token");
        expect(ok.headers.get("hx-redirect")).toBe("/account");
      });

      test("with automatic accounts off, a Plex user the admin added by name or email gets in and claims that account", async () => {
        const owner = (await listUsers(t.deps.database, { role: "admin" })).users[0]!;
        const admin = await signIn(t, owner);
        expect((await admin.post("/admin/settings/accounts", { permissions: ["request"] })).status).toBe(303);
        const bad = await admin.post("/admin/new-plex-user", { plexName: "has space", role: "user" });
        expect(bad.status).toBe(422);
        expect(await bad.text()).toContain("A Plex user name or email has no spaces.");
        const added = await admin.post("/admin/new-plex-user", { plexName: "Grandma@Example.com", role: "user" });
        expect(added.status).toBe(303);
        const again = await admin.post("/admin/new-plex-user", { plexName: "grandma@example.com", role: "user" });
        expect(again.status).toBe(422);
        expect(await again.text()).toContain("already on the list");
        const listed = (await listUsers(t.deps.database, { search: "grandma" })).users[0]!;
        expect(listed.plexInvite).toBe("grandma@example.com");
        expect(await (await admin.get("/admin/users?q=grandma")).text()).toContain("Plex (not signed in yet)");

        plextv.addUser({
          token: "gran-token",
          id: 5005,
          username: "nana55",
          title: "Nana",
          email: "grandma@example.com",
          resources: [SERVER],
        });
        const res = await plexSignIn(new CookieJar(t), "gran-token");
        expect(res.headers.get("hx-redirect")).toBe("/account");
        const claimed = (await findUserById(t.deps.database, listed.id))!;
        expect(claimed.plexId).toBe(5005);
        expect(claimed.plexInvite).toBeNull();
        expect(claimed.displayName).toBe("Nana");
        expect(claimed.permissions).toEqual(["request"]);
        expect((await listUsers(t.deps.database)).users.filter((u) => u.plexId === 5005)).toHaveLength(1);
        // Someone else with server access but not on the list is still refused.
        plextv.addUser({ token: "other-token", id: 5006, username: "stranger2", resources: [SERVER] });
        expect((await plexSignIn(new CookieJar(t), "other-token")).status).toBe(403);
      });

      test("an expired PIN, an unknown PIN and plex.tv answering nonsense each get a clear message", async () => {
        const jar = new CookieJar(t);
        await jar.get("/login");
        await jar.post("/auth/plex/pin", {}, { "hx-request": "true" });
        plextv.expirePin(plextv.lastPin()!.id);
        const expired = await jar.get("/auth/plex/poll", { "hx-request": "true" });
        expect(await expired.text()).toContain("The Plex PIN expired");
        const again = await jar.get("/auth/plex/poll", { "hx-request": "true" });
        expect(await again.text()).toContain("expired or was already used");

        plextv.failNext("html");
        const broken = await jar.post("/auth/plex/pin", {}, { "hx-request": "true" });
        expect(broken.status).toBe(502);
        expect(await broken.text()).toContain("plex.tv answered something that is not JSON");

        plextv.failNext(500);
        const down = await jar.post("/auth/plex/pin", {}, { "hx-request": "true" });
        expect(down.status).toBe(502);
        expect(await down.text()).toContain("plex.tv refused the request (status 500)");
      });

      test("local sign-in: wrong password refused and audited, success rotates to a new session id", async () => {
        const jar = new CookieJar(t);
        jar.cookies.set("mn_session", "attacker-chosen-session-id-aaaaaaaaaaaaaaaaa");
        await jar.get("/login");
        const wrong = await jar.post("/login", { username: "owner", password: "nope-nope-nope" });
        expect(wrong.status).toBe(401);
        expect(await wrong.text()).toContain("do not match an active account");
        const empty = await jar.post("/login", { username: "", password: "" });
        expect(empty.status).toBe(422);
        expect(await empty.text()).toContain("Enter your user name.");

        const ok = await jar.post("/login", { username: "OWNER", password: "owner-password-1", next: "/admin/users" });
        expect(ok.status).toBe(303);
        expect(ok.headers.get("location")).toBe("/admin/users");
        expect(jar.cookies.get("mn_session")).not.toBe("attacker-chosen-session-id-aaaaaaaaaaaaaaaaa");
        const offsite = await new CookieJar(t).post("/login", {
          username: "owner",
          password: "owner-password-1",
          next: "//evil.example/x",
        });
        expect(offsite.headers.get("location")).toBe("/");

        const { entries } = await listAuditEntries(t.deps.database);
        const actions = entries.map((e) => e.action);
        expect(actions).toContain("signin.failure");
        expect(actions).toContain("signin.success");
        expect(JSON.stringify(entries)).not.toContain("nope-nope-nope");
        expect(JSON.stringify(entries)).not.toContain("owner-password-1");
      });

      test("login is rate limited per account and per IP", async () => {
        const jar = new CookieJar(t);
        await jar.get("/login");
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++)
          statuses.push((await jar.post("/login", { username: "owner", password: `wrong-${i}-password` })).status);
        expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
        expect(statuses[5]).toBe(429);
        const limited = await jar.post("/login", { username: "owner", password: "owner-password-1" });
        expect(limited.status).toBe(429);
        expect(await limited.text()).toContain("Too many attempts");
        // Another account from the same IP still works until the IP limit is reached.
        await givenUser(t.deps, { username: "other", passwordHash: await Bun.password.hash("other-password-1") });
        expect((await jar.post("/login", { username: "other", password: "other-password-1" })).status).toBe(303);
      });

      test("behind a trusted proxy the per-IP limit keys on the hop the proxy added, not on what the client sent", async () => {
        const proxied = await createTestApp({ dialect, redis, env: { MEDIANEST_TRUST_PROXY: "true" } });
        try {
          await givenUser(proxied.deps, { role: "admin" });
          const statuses: number[] = [];
          for (let i = 0; i < 11; i++) {
            const res = await proxied.request("/login", {
              method: "POST",
              body: new URLSearchParams({ username: `nobody${i}`, password: "wrong-password" }),
              headers: {
                origin: "http://localhost",
                "content-type": "application/x-www-form-urlencoded",
                "x-forwarded-for": `10.9.${i}.1, 203.0.113.7`,
              },
            });
            statuses.push(res.status);
          }
          expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
          expect(statuses[10]).toBe(429);
          const { entries } = await listAuditEntries(proxied.deps.database, { action: "signin.failure" });
          expect(entries.every((e) => e.ip === "203.0.113.7")).toBe(true);
        } finally {
          await proxied.close();
        }
      });

      test("sign out ends the session; a tampered cookie is just anonymous", async () => {
        const jar = new CookieJar(t);
        await jar.get("/login");
        await jar.post("/login", { username: "owner", password: "owner-password-1" });
        const raw = jar.cookies.get("mn_session")!;
        await jar.get("/account");
        expect((await jar.post("/logout")).headers.get("location")).toBe("/login");
        const replay = await t.request("/account", { headers: { cookie: `mn_session=${raw}` } });
        expect(replay.status).toBe(303);
        const tampered = await t.request("/account", { headers: { cookie: `mn_session=${raw.slice(0, -2)}xx` } });
        expect(tampered.status).toBe(303);
        expect(tampered.headers.get("location")).toBe("/login?next=%2Faccount");
      });

      test("account: change password ends other sessions; sessions can be revoked one by one", async () => {
        const owner = (await listUsers(t.deps.database, { role: "admin" })).users[0]!;
        const here = new CookieJar(t);
        await here.get("/login");
        await here.post("/login", { username: "owner", password: "owner-password-1" });
        const elsewhere = await signIn(t, owner);
        const third = await signIn(t, owner);
        const page = await here.get("/account");
        const html = await page.text();
        const ids = [...new Set([...html.matchAll(/\/account\/sessions\/([0-9a-f]{16})\/revoke/g)].map((m) => m[1]!))];
        expect(ids).toHaveLength(2);
        expect((await here.post(`/account/sessions/${ids[0]}/revoke`, {}, { "hx-request": "true" })).status).toBe(200);
        expect(await listSessionsByUser(t.deps.database, owner.id)).toHaveLength(2);
        expect(
          (await here.post("/account/sessions/ffffffffffffffff/revoke", {}, { "hx-request": "true" })).status,
        ).toBe(404);

        const wrong = await here.post("/account/password", {
          current: "bad-password-x",
          password: "new-password-1",
          confirm: "new-password-1",
        });
        expect(wrong.status).toBe(422);
        expect(await wrong.text()).toContain("The current password is wrong.");
        const ok = await here.post("/account/password", {
          current: "owner-password-1",
          password: "new-password-1",
          confirm: "new-password-1",
        });
        expect(ok.status).toBe(200);
        const remaining = await listSessionsByUser(t.deps.database, owner.id);
        expect(remaining).toHaveLength(1);
        expect((await elsewhere.get("/account")).status).toBe(303);
        expect((await third.get("/account")).status).toBe(303);
        expect((await here.get("/account")).status).toBe(200);
      });

      test("personal API tokens act as their user under /api and stop working when revoked", async () => {
        const user = await givenUser(t.deps, { permissions: ["request"] });
        const other = await givenUser(t.deps);
        const b = await signIn(t, user);
        const created = await b.post("/account/tokens", { name: "scripts" }, { "hx-request": "true" });
        const html = await created.text();
        const raw = /<code class="[^"]*" id="new-token">(mn_[A-Za-z0-9_-]+)<\/code>/.exec(html)![1]!;
        expect(html).toContain(`…${raw.slice(-4)}`);
        const me = await t.request("/api/v1/me", { headers: { authorization: `Bearer ${raw}` } });
        expect(me.status).toBe(200);
        expect(await me.json()).toMatchObject({ username: user.username, permissions: ["request"] });
        expect(
          (await t.request("/api/v1/me", { headers: { authorization: "Bearer mn_nottherealtoken" } })).status,
        ).toBe(401);
        const { db, tables } = t.deps.database;
        const [row] = await db.select().from(tables.apiTokens);
        expect(row!.tokenHash).not.toContain(raw);
        // Another user cannot revoke it.
        const ob = await signIn(t, other);
        expect((await ob.post(`/account/tokens/${row!.id}/revoke`, {}, { "hx-request": "true" })).status).toBe(404);
        expect((await t.request("/api/v1/me", { headers: { authorization: `Bearer ${raw}` } })).status).toBe(200);
        expect((await b.post(`/account/tokens/${row!.id}/revoke`, {}, { "hx-request": "true" })).status).toBe(200);
        expect((await t.request("/api/v1/me", { headers: { authorization: `Bearer ${raw}` } })).status).toBe(401);
        const bad = await b.post("/account/tokens", { name: "" }, { "hx-request": "true" });
        expect(bad.status).toBe(422);
        expect(await bad.text()).toContain("Name the token.");
      });

      test("admin edits permissions and quotas, disables (ends sessions at once) and deletes (history stays)", async () => {
        const owner = (await listUsers(t.deps.database, { role: "admin" })).users[0]!;
        const admin = await signIn(t, owner);
        const member = await givenUser(t.deps, { username: "member", displayName: "Member One" });
        const memberBrowser = await signIn(t, member);

        const list = await admin.get("/admin/users?q=member");
        const listHtml = await list.text();
        expect(listHtml).toContain("Member One");
        expect(listHtml).not.toContain("@owner");
        const filtered = await admin.get("/admin/users?role=admin", { "hx-request": "true" });
        const fragment = await filtered.text();
        expect(fragment.startsWith('<div id="users-table">')).toBe(true);
        expect(fragment).not.toContain("Member One");

        const bad = await admin.post(`/admin/users/${member.id}`, { role: "user", requestsPerWeek: "-3" });
        expect(bad.status).toBe(422);
        expect(await bad.text()).toContain("Requests per week must be a number of 0 or more");
        const badRole = await admin.post(`/admin/users/${member.id}`, { role: "emperor" });
        expect(badRole.status).toBe(422);

        const saved = await admin.post(`/admin/users/${member.id}`, {
          role: "user",
          permissions: ["request", "request_4k"],
          requestsPerWeek: "5",
          storageCapGiB: "2",
        });
        expect(saved.status).toBe(200);
        const after = (await findUserById(t.deps.database, member.id))!;
        expect(after.permissions).toEqual(["request", "request_4k"]);
        expect(after.requestsPerWeek).toBe(5);
        expect(after.storageCapBytes).toBe(2 * 1024 ** 3);

        expect((await memberBrowser.get("/account")).status).toBe(200);
        expect((await admin.post(`/admin/users/${member.id}/disable`)).status).toBe(303);
        expect((await memberBrowser.get("/account")).status).toBe(303);
        expect(await listSessionsByUser(t.deps.database, member.id)).toHaveLength(0);

        expect((await admin.post(`/admin/users/${member.id}/delete`)).status).toBe(303);
        const deleted = (await findUserById(t.deps.database, member.id))!;
        expect(deleted.status).toBe("deleted");
        expect(deleted.displayName).toBe("Member One (deleted)");
        const { entries } = await listAuditEntries(t.deps.database);
        const actions = entries.map((e) => e.action);
        for (const a of ["user.permissions_change", "user.quotas_change", "user.disable", "user.delete"])
          expect(actions).toContain(a);
        expect((await admin.get("/admin/audit?action=user.delete")).status).toBe(200);
        expect(await (await admin.get("/admin/audit?action=user.delete")).text()).toContain("user.delete");

        // The last admin cannot demote, disable or delete themself.
        const demote = await admin.post(`/admin/users/${owner.id}`, { role: "user" });
        expect(demote.status).toBe(409);
        expect(await demote.text()).toContain("without an active administrator");
        expect((await admin.post(`/admin/users/${owner.id}/delete`)).status).toBe(409);
        expect((await findUserById(t.deps.database, owner.id))!.role).toBe("admin");
      });

      test("two admins disabling each other at the same moment leave one active admin", async () => {
        const owner = (await listUsers(t.deps.database, { role: "admin" })).users[0]!;
        const second = await givenUser(t.deps, { role: "admin", username: "second-admin" });
        const a = await signIn(t, owner);
        const b = await signIn(t, second);
        const [ra, rb] = await Promise.all([
          a.post(`/admin/users/${second.id}/disable`),
          b.post(`/admin/users/${owner.id}/disable`),
        ]);
        // One wins; the other is refused (409), or finds its own session already ended (sent to sign in).
        const done = [ra, rb].filter((r) => r.status === 303 && r.headers.get("location")?.startsWith("/admin/users/"));
        expect(done).toHaveLength(1);
        const { users } = await listUsers(t.deps.database, { role: "admin", status: "active" });
        expect(users).toHaveLength(1);
      });

      test("admins create local users; a taken name is a field error", async () => {
        const owner = (await listUsers(t.deps.database, { role: "admin" })).users[0]!;
        const admin = await signIn(t, owner);
        const ok = await admin.post("/admin/new-user", {
          username: "kid",
          displayName: "Kid",
          password: "kid-password-1",
          role: "user",
        });
        expect(ok.status).toBe(303);
        const taken = await admin.post("/admin/new-user", {
          username: "KID",
          password: "kid-password-1",
          role: "user",
        });
        expect(taken.status).toBe(422);
        expect(await taken.text()).toContain("That user name is taken.");
        const kid = new CookieJar(t);
        await kid.get("/login");
        expect((await kid.post("/login", { username: "kid", password: "kid-password-1" })).status).toBe(303);
      });
    });
  });
}

describe("restoreAdmin (medianest create-admin)", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  test("a free name becomes an active administrator with that password; the audit log names the command line", async () => {
    const { user, created } = await restoreAdmin(
      t.deps,
      { username: "Root", password: "a long enough password" },
      { name: "command line" },
    );
    expect(created).toBe(true);
    const row = await findUserById(t.deps.database, user.id);
    expect(row).toMatchObject({ username: "root", displayName: "root", role: "admin", status: "active" });
    expect(await Bun.password.verify("a long enough password", row!.passwordHash!)).toBe(true);
    const { entries } = await listAuditEntries(t.deps.database, { action: "user.create" });
    expect(entries.map((e) => [e.actorName, e.actorId, e.targetId, e.detail])).toEqual([
      ["command line", null, user.id, { username: "root", role: "admin" }],
    ]);
  });

  test("a disabled member of that name gets the admin role, the new password and active status; their sessions end", async () => {
    const member = await givenUser(t.deps, { username: "carol", role: "user", status: "disabled" });
    await signIn(t, member);
    expect(await listSessionsByUser(t.deps.database, member.id)).toHaveLength(1);
    const { user, created } = await restoreAdmin(
      t.deps,
      { username: "carol", password: "another long password" },
      { name: "command line" },
    );
    expect(created).toBe(false);
    expect(user.id).toBe(member.id);
    const row = await findUserById(t.deps.database, member.id);
    expect(row).toMatchObject({ role: "admin", status: "active" });
    expect(await Bun.password.verify("another long password", row!.passwordHash!)).toBe(true);
    expect(await listSessionsByUser(t.deps.database, member.id)).toEqual([]);
    const { entries } = await listAuditEntries(t.deps.database, { action: "user.password_reset" });
    expect(entries.map((e) => [e.actorName, e.targetId])).toEqual([["command line", member.id]]);
  });
});
