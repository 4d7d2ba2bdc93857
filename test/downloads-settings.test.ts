// The admins' download settings: the form (422 naming the field), yt-dlp's path, version and age, the cookies file
// (encrypted at rest, a 0600 file per run, never shown again), workers following the setting, folder write probes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalUser } from "../src/services/accounts";
import { probeFolder } from "../src/services/download-folders";
import {
  DOWNLOAD_DEFAULTS,
  getDownloadSettings,
  saveDownloadSettings,
  withCookiesFile,
  ytdlpAgeWarning,
} from "../src/services/download-settings";
import { createDownloadWorkers } from "../src/services/download-worker";
import { createDownload, DownloadRefusal, previewDownload } from "../src/services/downloads";
import { saveLibraries, saveYtdlpPath } from "../src/services/integrations";
import type { User } from "../src/store/users";
import { type MediaSite, startMediaSite } from "./fakes/media-site";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const canMount = await (async () => {
  if (process.getuid?.() !== 0 || !Bun.which("mount")) return false;
  const dir = mkdtempSync(join(tmpdir(), "medianest-mount-"));
  const ok = (await Bun.$`mount -t tmpfs -o size=1m tmpfs ${dir}`.quiet().nothrow()).exitCode === 0;
  if (ok) await Bun.$`umount ${dir}`.quiet().nothrow();
  rmSync(dir, { recursive: true, force: true });
  return ok;
})();

const COOKIES = "# Netscape HTTP Cookie File\n.example.com\tTRUE\t/\tTRUE\t0\tSID\tsecret-cookie-value\n";

describe("download settings", () => {
  let t: TestApp;
  let admin: User;
  let library: string;
  let site: MediaSite;

  beforeAll(async () => {
    site = await startMediaSite();
    t = await createTestApp();
    admin = await givenUser(t.deps, { role: "admin" });
    library = mkdtempSync(join(tmpdir(), "medianest-library-"));
    await saveLibraries(t.deps, [{ sectionKey: "7", title: "YouTube", type: "movie", folder: library }]);
  });
  afterAll(async () => {
    await t.close();
    await site.stop();
    rmSync(library, { recursive: true, force: true });
  });

  function postMultipart(browser: Awaited<ReturnType<typeof signIn>>, fields: Record<string, string | File>) {
    const body = new FormData();
    body.set("_csrf", browser.csrf);
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return t.request("/admin/download-settings", {
      method: "POST",
      body,
      headers: { cookie: browser.cookie, origin: "http://localhost" },
    });
  }

  const valid = {
    allowedHosts: "youtube.com\nvimeo.com",
    workers: "3",
    stallSeconds: "90",
    minFreeMiB: "2048",
    subscriptionCheckMinutes: "30",
  };

  test("defaults: two workers, 120 s without progress, 1 GiB free, subscriptions checked hourly", async () => {
    expect(DOWNLOAD_DEFAULTS).toMatchObject({
      workers: 2,
      stallSeconds: 120,
      minFreeBytes: 1024 ** 3,
      subscriptionCheckMinutes: 60,
    });
    expect(await getDownloadSettings(t.deps)).toMatchObject({ workers: 2, cookies: null });
  });

  test("the page shows yt-dlp's path and version, and warns when that version is months old", async () => {
    const browser = await signIn(t, admin);
    const html = await (await browser.get("/admin/download-settings")).text();
    expect(html).toContain('action="/admin/download-settings"');
    expect(html).toContain('name="allowedHosts"');
    expect(html).toContain("youtube.com");
    expect(html).toContain(">yt-dlp<");
    const version = (await Bun.$`yt-dlp --version`.nothrow().quiet().text()).trim();
    if (version) {
      expect(html).toContain(version);
      const warning = ytdlpAgeWarning(version);
      if (warning) expect(html).toContain("months old");
    }
    expect(ytdlpAgeWarning("2020.01.02", new Date("2020-06-01"))).toContain("5 months old");
    expect(ytdlpAgeWarning("2020.05.20.123456", new Date("2020-06-01"))).toBeNull();
    expect(ytdlpAgeWarning("not-a-date")).toBeNull();
    // Members never reach it.
    const member = await signIn(t, await givenUser(t.deps));
    expect((await member.get("/admin/download-settings")).status).toBe(403);
  });

  test("saving: the values stick; a bad value is a 422 naming its field and nothing is saved", async () => {
    const browser = await signIn(t, admin);
    const bad = await postMultipart(browser, { ...valid, workers: "0", allowedHosts: "youtube.com\nnot a host/x" });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('id="f-workers-error"');
    expect(html).toContain("from 1 to 16");
    expect(html).toContain("Not a host name: not a host/x");
    expect((await getDownloadSettings(t.deps)).workers).toBe(2);

    const ok = await postMultipart(browser, valid);
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/admin/download-settings?saved=1");
    expect(await getDownloadSettings(t.deps)).toMatchObject({
      allowedHosts: ["youtube.com", "vimeo.com"],
      workers: 3,
      stallSeconds: 90,
      minFreeBytes: 2048 * 1024 * 1024,
      subscriptionCheckMinutes: 30,
    });
    const page = await (await browser.get("/admin/download-settings?saved=1")).text();
    expect(page).toContain("Download settings saved.");
    expect(page).toContain('value="30"');
  });

  test("workers follow the setting on every replica without a restart", async () => {
    const workers = createDownloadWorkers(t.deps, { pollMs: 50 });
    await workers.start();
    try {
      expect(workers.size()).toBe((await getDownloadSettings(t.deps)).workers);
      const browser = await signIn(t, admin);
      expect((await postMultipart(browser, { ...valid, workers: "5" })).status).toBe(303);
      for (let i = 0; i < 100 && workers.size() !== 5; i++) await Bun.sleep(20);
      expect(workers.size()).toBe(5);
      expect((await postMultipart(browser, { ...valid, workers: "1" })).status).toBe(303);
      for (let i = 0; i < 100 && workers.size() !== 1; i++) await Bun.sleep(20);
      expect(workers.size()).toBe(1);
    } finally {
      await workers.stop();
    }
  });

  test("a cookies file is stored encrypted, never shown again, replaced or removed; a file that is not one is refused", async () => {
    const browser = await signIn(t, admin);
    const refused = await postMultipart(browser, {
      ...valid,
      cookies: new File(["<html>not cookies</html>"], "cookies.txt"),
    });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("Netscape format");

    expect((await postMultipart(browser, { ...valid, cookies: new File([COOKIES], "cookies.txt") })).status).toBe(303);
    expect((await getDownloadSettings(t.deps)).cookies).toBe(COOKIES);
    const rows = await t.deps.database.db.select().from(t.deps.database.tables.settings);
    const row = rows.find((r) => r.key === "downloads.cookies")!;
    expect(JSON.stringify(row)).not.toContain("secret-cookie-value");
    const page = await (await browser.get("/admin/download-settings")).text();
    expect(page).toContain("A cookies file is saved (hidden)");
    expect(page).not.toContain("secret-cookie-value");
    // Saving without a file keeps it; the checkbox removes it.
    expect((await postMultipart(browser, valid)).status).toBe(303);
    expect((await getDownloadSettings(t.deps)).cookies).toBe(COOKIES);
    expect((await postMultipart(browser, { ...valid, removeCookies: "on" })).status).toBe(303);
    expect((await getDownloadSettings(t.deps)).cookies).toBeNull();
  });

  test("each run gets the cookies in a 0600 file of its own, removed afterwards", async () => {
    let seen = "";
    const out = await withCookiesFile(COOKIES, async (path) => {
      seen = path!;
      expect((await Bun.file(path!).stat()).mode & 0o777).toBe(0o600);
      expect(await Bun.file(path!).text()).toBe(COOKIES);
      return "done";
    });
    expect(out).toBe("done");
    expect(existsSync(seen)).toBe(false);
    await expect(
      withCookiesFile(COOKIES, async (path) => {
        seen = path!;
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(existsSync(seen)).toBe(false);
    expect(await withCookiesFile(null, async (path) => path)).toBeNull();

    // The preview hands yt-dlp the file: a stand-in records the mode and content it was given.
    const dir = mkdtempSync(join(tmpdir(), "medianest-standin-"));
    const record = join(dir, "seen");
    const standin = join(dir, "yt-dlp");
    writeFileSync(
      standin,
      `#!/bin/sh\nwhile [ "$1" != "--" ]; do if [ "$1" = "--cookies" ]; then stat -c %a "$2" > ${record}; cat "$2" >> ${record}; echo "$2" >> ${record}; fi; shift; done\necho '{"id":"x1","title":"Stand-in","extractor":"generic"}'\n`,
    );
    chmodSync(standin, 0o755);
    try {
      await saveYtdlpPath(t.deps, standin);
      await saveDownloadSettings(t.deps, { allowedHosts: [site.host], cookies: COOKIES });
      const p = await previewDownload(t.deps, admin, `${site.url}/standin.html`);
      expect(p.preview.title).toBe("Stand-in");
      const lines = (await Bun.file(record).text()).trim().split("\n");
      expect(lines[0]).toBe("600");
      expect(lines.join("\n")).toContain("secret-cookie-value");
      expect(existsSync(lines.at(-1)!)).toBe(false);
    } finally {
      await saveDownloadSettings(t.deps, { cookies: null });
      await saveYtdlpPath(t.deps, "yt-dlp");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a new account may make five downloads an hour until an admin changes the default", async () => {
    const user = await createLocalUser(
      t.deps,
      {
        username: `quota-${crypto.randomUUID().slice(0, 6)}`,
        displayName: "Q",
        password: "a long password 1",
        role: "user",
      },
      { user: admin },
    );
    expect(user.downloadsPerHour).toBe(5);
    await saveDownloadSettings(t.deps, { allowedHosts: ["youtube.com", site.host], minFreeBytes: 0 });
    for (let i = 0; i < 5; i++)
      await createDownload(t.deps, user, { user }, { url: `${site.url}/clip.mp4`, quality: "best", sectionKey: "7" });
    const sixth = await createDownload(
      t.deps,
      user,
      { user },
      { url: `${site.url}/clip.mp4`, quality: "best", sectionKey: "7" },
    ).catch((e: unknown) => e);
    expect(sixth).toBeInstanceOf(DownloadRefusal);
    expect((sixth as DownloadRefusal).message).toContain("your limit is 5");
  });
});

describe("library folder write probe", () => {
  test("a writable folder passes and keeps no probe file; a missing one or a file is named", async () => {
    const dir = mkdtempSync(join(tmpdir(), "medianest-probe-"));
    try {
      expect(await probeFolder(dir)).toBeNull();
      expect(Array.from(new Bun.Glob("*").scanSync({ cwd: dir, dot: true }))).toEqual([]);
      expect(await probeFolder(join(dir, "missing"))).toContain("does not exist");
      writeFileSync(join(dir, "file"), "");
      expect(await probeFolder(join(dir, "file"))).toContain("is not a folder");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(!canMount)(
    "a read-only folder is named with the fix: under systemd, install.sh --downloads or a drop-in",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "medianest-ro-"));
      await Bun.$`mount -t tmpfs -o ro,size=1m tmpfs ${dir}`.quiet();
      try {
        const plain = await probeFolder(dir, {});
        expect(plain).toContain(`MediaNest cannot write to ${dir}`);
        expect(plain).toContain("read-only");
        const systemd = await probeFolder(dir, { INVOCATION_ID: "0123" });
        expect(systemd).toContain(`install.sh --system --downloads ${dir}`);
        expect(systemd).toContain(`ReadWritePaths=${dir}`);
        expect(systemd).toContain("systemctl edit medianest");
      } finally {
        await Bun.$`umount ${dir}`.quiet().nothrow();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
