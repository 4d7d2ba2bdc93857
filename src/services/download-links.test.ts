import { describe, expect, test } from "bun:test";
import { checkDownloadLink, DEFAULT_ALLOWED_HOSTS, matchHost, parseAllowedHosts } from "./download-links";

const publicDns = async () => undefined;

describe("download links", () => {
  const opts = { allowedHosts: DEFAULT_ALLOWED_HOSTS, privateReason: publicDns };

  test.each([
    ["", "Paste a link"],
    ["-o /tmp/x https://youtube.com/watch?v=x", "cannot start with “-”"],
    ["--exec=rm https://youtube.com", "cannot start with “-”"],
    ["file:///etc/passwd", "not file"],
    ["ftp://youtube.com/x", "not ftp"],
    ["javascript:alert(1)", "not javascript"],
    ["youtube.com/watch?v=x", "not a link"],
    ["https://user:pw@www.youtube.com/watch?v=x", "user name or password"],
    ["https://notyoutube.com/watch?v=x", "not allowed"],
    ["https://youtube.com.evil.example/watch?v=x", "not allowed"],
    ["https://evil.example/?u=https://youtube.com", "not allowed"],
    ["https://www.youtube.com /x", "spaces"],
  ])("%j is refused (%s)", async (raw, reason) => {
    const r = await checkDownloadLink(raw, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(reason);
  });

  test.each([
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://youtu.be/dQw4w9WgXcQ",
    "https://music.youtube.com/playlist?list=x",
    "HTTPS://WWW.YOUTUBE.COM./watch?v=x",
  ])("%j is accepted", async (raw) => {
    const r = await checkDownloadLink(raw, opts);
    expect(r.ok).toBe(true);
  });

  test("a host resolving to a private address is refused unless the admin named that very host", async () => {
    const privateReason = async (h: string) => `${h} resolves to 10.0.0.5, a private or local address`;
    const r = await checkDownloadLink("https://www.youtube.com/watch?v=x", {
      allowedHosts: DEFAULT_ALLOWED_HOSTS,
      privateReason,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("10.0.0.5");
    const sub = await checkDownloadLink("http://cam.nas.lan/x", { allowedHosts: ["nas.lan"], privateReason });
    expect(sub.ok).toBe(false);
    const named = await checkDownloadLink("http://nas.lan:8080/x.mp4", { allowedHosts: ["nas.lan"], privateReason });
    expect(named.ok).toBe(true);
  });

  test("the real destination policy refuses a name that is this machine unless it was named exactly", async () => {
    const sub = await checkDownloadLink("http://videos.localhost/x", { allowedHosts: ["localhost"] });
    expect(sub.ok).toBe(false);
    if (!sub.ok) expect(sub.message).toContain("videos.localhost is not an allowed address");
    const other = await checkDownloadLink("http://127.0.0.2/x", { allowedHosts: ["127.0.0.1"] });
    expect(other.ok).toBe(false);
    const named = await checkDownloadLink("http://127.0.0.1:9000/x.mp4", { allowedHosts: ["127.0.0.1"] });
    expect(named.ok).toBe(true);
  });

  test("hosts are compared parsed, never as substrings", () => {
    expect(matchHost("www.youtube.com", ["youtube.com"]).allowed).toBe(true);
    expect(matchHost("xyoutube.com", ["youtube.com"]).allowed).toBe(false);
    expect(matchHost("127.0.0.10", ["127.0.0.1"]).allowed).toBe(false);
    expect(matchHost("1.127.0.0.1", ["127.0.0.1"]).allowed).toBe(false);
  });

  test("the admin's list is parsed, with entries that are not hosts named", () => {
    expect(parseAllowedHosts("YouTube.com\n*.vimeo.com, youtu.be\nhttp://x/y\n\n")).toEqual({
      hosts: ["youtube.com", "vimeo.com", "youtu.be"],
      invalid: ["http://x/y"],
    });
  });
});
