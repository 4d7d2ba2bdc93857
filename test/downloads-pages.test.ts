// The downloads pages: preview (cached for the confirm), queue, quotas, approval, owners only, the thumbnail proxy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveDownloadSettings } from "../src/services/download-settings";
import { imageProxyKey, signedRemoteImageUrl } from "../src/services/image-proxy";
import { saveLibraries } from "../src/services/integrations";
import {
  insertDownload,
  listDownloadItems,
  listDownloadSummaries,
  type NewDownload,
  type NewDownloadItem,
} from "../src/store/downloads";
import { ADMIN_PAGE_SIZE } from "../src/web/admin-downloads";
import { LIST_PAGE_SIZE } from "../src/web/downloads";
import { listNotifications } from "../src/store/notifications";
import type { User } from "../src/store/users";
import { type MediaSite, startMediaSite } from "./fakes/media-site";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const ytdlp = Bun.which("yt-dlp") !== null;

describe.skipIf(!ytdlp)("downloads pages", () => {
  let t: TestApp;
  let site: MediaSite;
  let library: string;
  let admin: User;

  beforeAll(async () => {
    site = await startMediaSite();
    t = await createTestApp();
    library = mkdtempSync(join(tmpdir(), "medianest-library-"));
    await saveLibraries(t.deps, [
      { sectionKey: "7", title: "YouTube", type: "movie", folder: library },
      { sectionKey: "8", title: "Music", type: "artist", folder: "" },
    ]);
    await saveDownloadSettings(t.deps, { allowedHosts: ["youtube.com", site.host], minFreeBytes: 0 });
    admin = await givenUser(t.deps, { role: "admin" });
  });
  afterAll(async () => {
    await t.close();
    await site.stop();
    rmSync(library, { recursive: true, force: true });
  });

  /** One video download of `owner` into the YouTube library, with its one item; returns the download's id. */
  async function givenVideo(
    owner: User,
    v: Pick<NewDownload, "remoteId" | "title" | "status"> &
      Partial<Pick<NewDownload, "channel" | "error">> & { at?: Date; item: Partial<NewDownloadItem> },
  ): Promise<string> {
    const id = crypto.randomUUID();
    const at = v.at ?? new Date();
    const url = `https://www.youtube.com/watch?v=${v.remoteId}`;
    const { item, at: _at, ...download } = v;
    await insertDownload(
      t.deps.database,
      {
        id,
        userId: owner.id,
        url,
        kind: "video",
        quality: "best",
        sectionKey: "7",
        folder: library,
        itemCount: 1,
        createdAt: at,
        updatedAt: at,
        ...download,
      },
      [
        {
          id: crypto.randomUUID(),
          downloadId: id,
          userId: owner.id,
          position: 1,
          remoteId: v.remoteId,
          title: v.title,
          url,
          status: v.status,
          attempts: 0,
          nextAttemptAt: at,
          createdAt: at,
          ...item,
        },
      ],
    );
    return id;
  }

  test("the page: the link form for a member, the sign-in for a stranger, the permission's absence said", async () => {
    const member = await signIn(t, await givenUser(t.deps));
    const page = await member.get("/downloads");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="url"');
    expect(html).toContain("No downloads yet");
    expect(html).toContain('href="/downloads"');
    const anon = await t.request("/downloads");
    expect(anon.status).toBe(303);
    const without = await signIn(t, await givenUser(t.deps, { permissions: [] }));
    expect(await (await without.get("/downloads")).text()).toContain("may not download videos");
    const refused = await without.post("/downloads", { step: "preview", url: `${site.url}/one.html` });
    expect(refused.status).toBe(403);
  });

  test.each([
    ["file:///etc/passwd", "not file"],
    ["-o/tmp/x https://youtube.com/watch?v=x", "cannot start with “-”"],
    ["https://evil.example/watch?v=x", "not allowed"],
    ["", "Paste a link"],
  ])("a refused link %j is a 422 naming the field (%s)", async (url, why) => {
    const member = await signIn(t, await givenUser(t.deps));
    const res = await member.post("/downloads", { step: "preview", url });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('id="f-url-error"');
    expect(html).toContain(why);
  });

  test("preview, then confirm without running yt-dlp again; a member's download waits for approval; admins are told", async () => {
    const user = await givenUser(t.deps);
    const member = await signIn(t, user);
    const preview = await member.post("/downloads", { step: "preview", url: `${site.url}/one.html` });
    expect(preview.status).toBe(200);
    const html = await preview.text();
    expect(html).toContain("One Clip");
    expect(html).toContain("/img/remote?");
    expect(html).toContain('<option value="7"');
    expect(html).not.toContain('<option value="8"');
    const pageFetches = site.requests.filter((r) => r.path === "/one.html").length;
    const bad = await member.post("/downloads", { url: `${site.url}/one.html`, quality: "8k", sectionKey: "7" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Pick one of the qualities offered.");
    const ok = await member.post("/downloads", { url: `${site.url}/one.html`, quality: "720", sectionKey: "7" });
    expect(ok.status).toBe(303);
    expect(site.requests.filter((r) => r.path === "/one.html").length).toBe(pageFetches);
    const [mine] = await listDownloadSummaries(t.deps.database, { userId: user.id, limit: 5 });
    expect(mine!.download).toMatchObject({ status: "awaiting_approval", quality: "720", folder: library });
    const list = await (await member.get("/downloads?part=list")).text();
    expect(list).toContain("Waiting for approval");
    const adminNotes = await listNotifications(t.deps.database, admin.id, { limit: 10 });
    expect(adminNotes.items.map((n) => n.kind)).toContain("admin.download_pending");

    // The admin approves: the items are queued and the member is told.
    const adminBrowser = await signIn(t, admin);
    const adminPage = await (await adminBrowser.get("/admin/downloads")).text();
    expect(adminPage).toContain("One Clip");
    expect((await adminBrowser.post(`/admin/downloads/${mine!.download.id}/approve`)).status).toBe(303);
    const items = await listDownloadItems(t.deps.database, mine!.download.id);
    expect(items.map((i) => i.status)).toEqual(["queued"]);
    const notes = await listNotifications(t.deps.database, user.id, { limit: 10 });
    expect(notes.items.map((n) => n.kind)).toContain("download.approved");
    expect((await member.post(`/admin/downloads/${mine!.download.id}/approve`)).status).toBe(403);

    // Another member can neither see nor cancel it; its owner can.
    const other = await signIn(t, await givenUser(t.deps));
    expect(await (await other.get("/downloads?part=list")).text()).not.toContain("One Clip");
    expect((await other.post(`/downloads/${mine!.download.id}/cancel`)).status).toBe(404);
    expect((await member.post(`/downloads/${mine!.download.id}/cancel`)).status).toBe(303);
    expect((await listDownloadItems(t.deps.database, mine!.download.id)).map((i) => i.status)).toEqual(["cancelled"]);
  });

  test("a declined download is cancelled and its owner told why", async () => {
    const user = await givenUser(t.deps);
    const member = await signIn(t, user);
    expect(
      (await member.post("/downloads", { url: `${site.url}/clip.mp4`, quality: "best", sectionKey: "7" })).status,
    ).toBe(303);
    const [d] = await listDownloadSummaries(t.deps.database, { userId: user.id, limit: 5 });
    const adminBrowser = await signIn(t, admin);
    await adminBrowser.post(`/admin/downloads/${d!.download.id}/decline`, { reason: "Not for this library" });
    const notes = await listNotifications(t.deps.database, user.id, { limit: 10 });
    expect(notes.items.find((n) => n.kind === "download.declined")?.body).toContain("Not for this library");
  });

  test("quotas: the refusal says why and when to try again; too little disk space is refused too", async () => {
    const user = await givenUser(t.deps, { downloadsPerHour: 1, permissions: ["download", "auto_approve_downloads"] });
    const member = await signIn(t, user);
    expect(
      (await member.post("/downloads", { url: `${site.url}/clip.mp4`, quality: "best", sectionKey: "7" })).status,
    ).toBe(303);
    const [first] = await listDownloadSummaries(t.deps.database, { userId: user.id, limit: 5 });
    expect(first!.download.status).toBe("queued");
    const again = await member.post("/downloads", { url: `${site.url}/other.mp4`, quality: "best", sectionKey: "7" });
    expect(again.status).toBe(429);
    const text = await again.text();
    expect(text).toContain("You have made 1 download in the last hour, your limit is 1.");
    expect(text).toMatch(/You can download again at \d\d:\d\d UTC \(in \d+ min\)/);

    await saveDownloadSettings(t.deps, { minFreeBytes: Number.MAX_SAFE_INTEGER });
    try {
      const roomy = await signIn(t, await givenUser(t.deps));
      const full = await roomy.post("/downloads", { url: `${site.url}/clip.mp4`, quality: "best", sectionKey: "7" });
      expect(full.status).toBe(503);
      expect(await full.text()).toContain("MediaNest keeps at least");
    } finally {
      await saveDownloadSettings(t.deps, { minFreeBytes: 0 });
    }
  });

  test("thumbnails come through the signed proxy: a named local host passes, anything unsigned or private does not", async () => {
    const member = await signIn(t, await givenUser(t.deps));
    const key = imageProxyKey(t.deps);
    const ok = await member.get(signedRemoteImageUrl(key, `${site.url}/thumb.jpg`)!);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("image/jpeg");
    const forged = await member.get(`/img/remote?u=${encodeURIComponent(`${site.url}/thumb.jpg`)}&s=nope`);
    expect(forged.status).toBe(403);
    const inside = await member.get(signedRemoteImageUrl(key, "http://10.0.0.1/x.jpg")!);
    expect(inside.status).toBe(403);
    expect(await inside.text()).toContain("not a public address");
  });

  test("a card escapes what it shows: title, channel, error; a failed one offers retry and removal", async () => {
    const owner = await givenUser(t.deps);
    const id = await givenVideo(owner, {
      remoteId: "esc",
      title: `<script>alert("t")</script> & Tom's`,
      channel: `<b>Chan</b>`,
      status: "failed",
      error: `yt-dlp said "<no>"`,
      item: { title: "Escaped", attempts: 1 },
    });
    const html = await (await (await signIn(t, owner)).get("/downloads")).text();
    const from = html.indexOf(`id="dl-${id}"`);
    const card = html.slice(from, html.indexOf("</li>", from));
    expect(card).toContain("<strong>&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; Tom&#39;s</strong>");
    expect(card).toContain("&lt;b&gt;Chan&lt;/b&gt; · YouTube · <time");
    expect(card).toContain('<div class="field-error">yt-dlp said &quot;&lt;no&gt;&quot;</div>');
    expect(card).toContain(`action="/downloads/${id}/retry"`);
    expect(card).toContain(`action="/downloads/${id}/remove"`);
    expect(card).not.toContain("/cancel");
    expect(card).not.toContain("<script>");
  });

  test("storage per user names each person who keeps downloaded files, with their total", async () => {
    const keeper = await givenUser(t.deps, { username: "keeper" });
    await givenVideo(keeper, {
      remoteId: "kept",
      title: "Kept video",
      status: "completed",
      item: { attempts: 1, filePath: join(library, "Kept video.mp4"), bytes: 3 * 1024 * 1024 },
    });
    const html = await (await (await signIn(t, admin)).get("/admin/downloads")).text();
    const from = html.indexOf("Storage per user");
    const storage = html.slice(from, html.indexOf("</dl>", from));
    expect(storage).toContain("<dt>@keeper</dt>");
    expect(storage).toContain("<dd>3 MiB</dd>");
    expect(storage).not.toContain(keeper.id);
  });

  test("long lists are paged: 25 a page, newest first, the page kept by the live refresh and by actions", async () => {
    const user = await givenUser(t.deps);
    const member = await signIn(t, user);
    const t0 = Date.now() - 3_600_000;
    const ids: string[] = [];
    for (let n = 0; n < LIST_PAGE_SIZE + 5; n++) {
      ids.push(
        await givenVideo(user, {
          remoteId: `paged${n}`,
          title: `Paged video ${n}`,
          status: "queued",
          at: new Date(t0 + n * 1000),
          // Not due: nothing here runs yt-dlp.
          item: { attempts: 0, nextAttemptAt: new Date(Date.now() + 86_400_000) },
        }),
      );
    }
    const titles = (html: string) => [...html.matchAll(/<strong>(Paged video \d+)<\/strong>/g)].map((m) => m[1]);
    const first = await (await member.get("/downloads")).text();
    expect(titles(first)).toHaveLength(LIST_PAGE_SIZE);
    expect(titles(first)[0]).toBe(`Paged video ${LIST_PAGE_SIZE + 4}`);
    expect(first).toContain(`${LIST_PAGE_SIZE + 5} downloads · page 1 of 2`);
    expect(first).toContain('href="/downloads?page=2"');
    const second = await (await member.get("/downloads?page=2")).text();
    expect(titles(second)).toEqual([
      "Paged video 4",
      "Paged video 3",
      "Paged video 2",
      "Paged video 1",
      "Paged video 0",
    ]);
    expect(second).toContain('hx-get="/downloads?part=list&amp;page=2"');
    expect(second).toContain(`action="/downloads/${ids[0]}/cancel?page=2"`);
    // Cancelling on page 2 answers with page 2.
    const after = await member.post(`/downloads/${ids[0]}/cancel?page=2`, {}, { "hx-request": "true" });
    expect(after.status).toBe(200);
    const list = await after.text();
    expect(titles(list)).toHaveLength(5);
    expect(list).toContain("page 2 of 2");
    // Nonsense is the first page.
    expect(titles(await (await member.get("/downloads?page=-3")).text())[0]).toBe(`Paged video ${LIST_PAGE_SIZE + 4}`);

    // The admins' list of every download pages the same way.
    const adminBrowser = await signIn(t, admin);
    const adminFirst = await (await adminBrowser.get("/admin/downloads")).text();
    expect(adminFirst.match(/<li class="card dl-item"/g)).toHaveLength(ADMIN_PAGE_SIZE);
    expect(adminFirst).toContain('href="/admin/downloads?page=2"');
    const adminSecond = await (await adminBrowser.get("/admin/downloads?page=2")).text();
    expect(titles(adminSecond)).toContain("Paged video 0");
  });

  test("the dashboard carries a 'your downloads' section that loads itself", async () => {
    const member = await signIn(t, await givenUser(t.deps));
    const home = await (await member.get("/")).text();
    expect(home).toContain('hx-get="/downloads?part=dashboard"');
    expect(await (await member.get("/downloads?part=dashboard")).text()).toContain("Nothing downloaded yet");
  });
});
