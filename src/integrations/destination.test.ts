import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TEST_TLS_CERT, TEST_TLS_KEY } from "../../test/fakes/tls-cert";
import {
  DestinationError,
  guardedFetch,
  isPublicAddress,
  normaliseHost,
  resolveDestination,
  type DestinationPolicy,
  type Resolver,
} from "./destination";

const member: DestinationPolicy = { allowPrivate: false };
const admin: DestinationPolicy = { allowPrivate: true };

/** A resolver answering from a table, counting its lookups; a list of lists answers differently each time. */
function tableResolver(table: Record<string, string[] | string[][]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (name: string) => {
    const nth = calls.filter((c) => c === name).length;
    calls.push(name);
    const answer = table[name];
    if (!answer) throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "DNS_ENOTFOUND" });
    // As a rebinding DNS server would: one answer when checked, another later.
    if (Array.isArray(answer[0])) return (answer as string[][])[Math.min(nth, answer.length - 1)]!;
    return answer as string[];
  };
  return Object.assign(resolve, { calls });
}

async function refusal(p: Promise<unknown>): Promise<DestinationError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DestinationError);
  return err as DestinationError;
}

describe("isPublicAddress", () => {
  test.each([
    // Loopback, private, link-local, CGNAT, unspecified, broadcast.
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.10",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.255",
    "0.0.0.0",
    "0.1.2.3",
    "255.255.255.255",
    // IETF, documentation, benchmarking and reserved ranges; multicast.
    "192.0.0.8",
    "192.0.2.1",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.9",
    "240.0.0.1",
    "224.0.0.1",
    "239.255.255.250",
    // IPv6: loopback, unspecified, unique local, link-local, site-local, multicast, documentation.
    "::1",
    "::",
    "fd00::1",
    "fc12:3456::1",
    "fe80::1",
    "FE80::abcd",
    "fec0::1",
    "ff02::1",
    "ff05::1:3",
    "2001:db8::1",
    // Every IPv4-mapped spelling of 127.0.0.1 and 169.254.169.254, either case.
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::FFFF:7F00:1",
    "0:0:0:0:0:ffff:7f00:1",
    "0000:0000:0000:0000:0000:FFFF:7F00:0001",
    "::ffff:a9fe:a9fe",
    "::ffff:10.0.0.1",
    "::ffff:100.64.0.1",
    // IPv4-compatible, NAT64 (well-known and local-use), 6to4 and Teredo embed IPv4 addresses.
    "::7f00:1",
    "::a9fe:a9fe",
    "64:ff9b::7f00:1",
    "64:ff9b::808:808",
    "64:ff9b:1::1",
    "2002:7f00:1::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "::ffff:0:7f00:1",
    "100::1",
    // Not an address at all.
    "localhost",
    "999.1.1.1",
    "",
  ])("%s is not public", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  test.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "172.32.0.1",
    "192.169.0.1",
    "100.128.0.1",
    "198.20.0.1",
    "223.255.255.254",
    "2001:4860:4860::8888",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "::ffff:808:808",
  ])("%s is public", (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });
});

describe("normaliseHost", () => {
  test.each([
    ["0x7f000001", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["LOCALHOST.", "localhost"],
    ["Mail.Example.COM", "mail.example.com"],
    ["mail.example.com.", "mail.example.com"],
    ["[::FFFF:127.0.0.1]", "::ffff:7f00:1"],
    ["::1", "::1"],
    ["bücher.example", "xn--bcher-kva.example"],
  ])("%s is %s", (host, expected) => {
    expect(normaliseHost(host)).toBe(expected);
  });

  test.each(["", " ", "evil.example@127.0.0.1", "127.0.0.1/x", "a b", "1.2.3.4.5", "host:25", "127%2e0.0.1"])(
    "%p is no host",
    (host) => {
      expect(normaliseHost(host)).toBeUndefined();
    },
  );
});

describe("resolveDestination", () => {
  test.each([
    ["[::ffff:7f00:1]", "::ffff:7f00:1"],
    ["[0:0:0:0:0:ffff:7f00:1]", "::ffff:7f00:1"],
    ["[::FFFF:A9FE:A9FE]", "::ffff:a9fe:a9fe"],
    ["0x7f000001", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["localhost.", "localhost"],
    ["api.localhost", "api.localhost"],
  ])("a member may not reach %s (no lookup needed)", async (host, shown) => {
    const resolve = tableResolver({});
    const err = await refusal(resolveDestination(host, { ...member, resolve }));
    expect(err.reason).toBe("not_allowed");
    expect(err.message).toBe(`${shown} is not an allowed address`);
    expect(resolve.calls).toEqual([]);
  });

  test("a name that does not resolve, resolves to nothing, or resolves to a private address reads alike for a member", async () => {
    const resolve = tableResolver({
      "nas.home.test": ["192.168.1.5"],
      "mixed.test": ["93.184.216.34", "10.0.0.7"],
      "empty.test": [],
    });
    const messages: string[] = [];
    for (const host of ["nas.home.test", "mixed.test", "empty.test", "nowhere.test", "1.2.3.4.5"]) {
      const err = await refusal(resolveDestination(host, { ...member, resolve }));
      expect(err.reason).toBe("not_allowed");
      messages.push(err.message.replace(host, "HOST"));
    }
    // The member learns only "not allowed": what the name resolved to (or that it did not) stays in the detail.
    expect(new Set(messages)).toEqual(new Set(["HOST is not an allowed address"]));
  });

  test("an admin may reach private addresses; a name that does not resolve is not found, not public", async () => {
    const resolve = tableResolver({ "nas.home.test": ["192.168.1.5", "192.168.1.6"] });
    expect(await resolveDestination("nas.home.test", { ...admin, resolve })).toEqual({
      host: "nas.home.test",
      address: "192.168.1.5",
      serverName: "nas.home.test",
    });
    // Mapped addresses are connected to as IPv4.
    expect(await resolveDestination("[::ffff:7f00:1]", admin)).toEqual({ host: "::ffff:7f00:1", address: "127.0.0.1" });
    const err = await refusal(resolveDestination("nowhere.test", { ...admin, resolve }));
    expect(err.reason).toBe("not_found");
  });

  test("a public name passes once, with the address that was checked", async () => {
    const resolve = tableResolver({ "hooks.example.test": ["93.184.216.34", "2606:4700::1111"] });
    expect(await resolveDestination("Hooks.Example.Test.", { ...member, resolve })).toEqual({
      host: "hooks.example.test",
      address: "93.184.216.34",
      serverName: "hooks.example.test",
    });
    expect(resolve.calls).toEqual(["hooks.example.test"]);
  });
});

/** A fetch that records what it was asked to connect to and answers from a list. */
function recordingFetch(answers: Response[] = []) {
  const calls: { url: string; host: string | null; auth: string | null; serverName?: string; method?: string }[] = [];
  const doFetch = (async (input: RequestInfo | URL, init?: RequestInit & { tls?: { serverName?: string } }) => {
    const headers = new Headers(init?.headers);
    calls.push({
      url: String(input),
      host: headers.get("host"),
      auth: headers.get("authorization"),
      ...(init?.tls?.serverName ? { serverName: init.tls.serverName } : {}),
      ...(init?.method ? { method: init.method } : {}),
    });
    return answers.shift() ?? new Response("ok");
  }) as typeof fetch;
  return { doFetch, calls };
}

describe("guardedFetch", () => {
  test("connects to the checked address, the name kept in Host and in TLS; a name resolving elsewhere later cannot redirect it", async () => {
    // The first lookup says public, every later one says loopback: a rebinding DNS server.
    const resolve = tableResolver({ "hooks.example.test": [["93.184.216.34"], ["127.0.0.1"]] });
    const { doFetch, calls } = recordingFetch();
    const f = guardedFetch({ ...member, resolve }, doFetch);
    const res = await f("https://hooks.example.test/hook?x=1", { method: "POST", body: "{}" });
    expect(await res.text()).toBe("ok");
    expect(res.url).toBe("https://hooks.example.test/hook?x=1");
    expect(calls).toEqual([
      {
        url: "https://93.184.216.34/hook?x=1",
        host: "hooks.example.test",
        serverName: "hooks.example.test",
        auth: null,
        method: "POST",
      },
    ]);
    expect(resolve.calls).toEqual(["hooks.example.test"]);
    // The next call looks the name up again, and now it is refused before anything is sent.
    const err = await refusal(f("https://hooks.example.test/hook"));
    expect(err.reason).toBe("not_allowed");
    expect(calls).toHaveLength(1);
  });

  test("an IPv6 address and a port are kept; an address needs no TLS name", async () => {
    const resolve = tableResolver({ "v6.example.test": ["2606:4700::1111"] });
    const { doFetch, calls } = recordingFetch([new Response("a"), new Response("b")]);
    const f = guardedFetch({ ...member, resolve }, doFetch);
    await f("https://v6.example.test:8443/x");
    await f("https://[2606:4700::1111]/y");
    expect(calls.map((c) => [c.url, c.host, c.serverName])).toEqual([
      ["https://[2606:4700::1111]:8443/x", "v6.example.test:8443", "v6.example.test"],
      ["https://[2606:4700::1111]/y", "[2606:4700::1111]", undefined],
    ]);
  });

  test("each redirect hop is checked; credentials do not follow to another origin; POST gets the 3xx back", async () => {
    const resolve = tableResolver({ "a.example.test": ["93.184.216.34"], "b.example.test": ["93.184.216.35"] });
    const to = (location: string) => new Response(null, { status: 302, headers: { location } });
    const { doFetch, calls } = recordingFetch([
      to("/next"),
      to("http://b.example.test/there"),
      new Response("done"),
      to("http://127.0.0.1:8080/admin"),
      to("/again"),
    ]);
    const f = guardedFetch({ ...member, resolve }, doFetch);
    const res = await f("http://a.example.test/start", { headers: { Authorization: "Bearer s" } });
    expect(await res.text()).toBe("done");
    expect(res.url).toBe("http://b.example.test/there");
    expect(calls.map((c) => [c.url, c.host, c.auth])).toEqual([
      ["http://93.184.216.34/start", "a.example.test", "Bearer s"],
      ["http://93.184.216.34/next", "a.example.test", "Bearer s"],
      ["http://93.184.216.35/there", "b.example.test", null],
    ]);
    // A redirect to this machine is refused before it is followed.
    const err = await refusal(f("http://a.example.test/start"));
    expect(err.message).toBe("127.0.0.1 is not an allowed address");
    expect(calls).toHaveLength(4);
    const post = await f("http://a.example.test/start", { method: "POST" });
    expect(post.status).toBe(302);
    expect(calls).toHaveLength(5);
  });

  describe("against real local servers", () => {
    let plain: ReturnType<typeof Bun.serve>;
    let secure: ReturnType<typeof Bun.serve>;
    let decoy: ReturnType<typeof Bun.serve>;
    const seen: { server: string; host: string | null }[] = [];
    beforeAll(() => {
      const record = (server: string) => (req: Request) => {
        seen.push({ server, host: req.headers.get("host") });
        return new Response(server);
      };
      plain = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: record("plain") });
      secure = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        tls: { cert: TEST_TLS_CERT, key: TEST_TLS_KEY },
        fetch: record("secure"),
      });
      // Where a second lookup would lead: 127.0.0.2 is loopback too, on the same port as the real receiver.
      decoy = Bun.serve({ port: plain.port, hostname: "127.0.0.2", fetch: record("decoy") });
    });
    afterAll(async () => {
      await Promise.all([plain.stop(true), secure.stop(true), decoy.stop(true)]);
    });

    test("http: the receiver at the checked address gets the request, with the name as Host", async () => {
      const resolve = tableResolver({ "hook.test": [["127.0.0.1"], ["127.0.0.2"]] });
      const res = await guardedFetch({ ...admin, resolve })(`http://hook.test:${plain.port}/x`);
      expect(await res.text()).toBe("plain");
      expect(seen.at(-1)).toEqual({ server: "plain", host: `hook.test:${plain.port}` });
      expect(resolve.calls).toHaveLength(1);
    });

    test("https: the certificate is verified for the name, not the address; another name is refused by TLS", async () => {
      const resolve = tableResolver({ "hook.test": ["127.0.0.1"], "other.test": ["127.0.0.1"] });
      const f = guardedFetch({ ...admin, resolve });
      const tls = { ca: TEST_TLS_CERT } as RequestInit;
      const res = await f(`https://hook.test:${secure.port}/x`, { tls } as RequestInit);
      expect(await res.text()).toBe("secure");
      expect(seen.at(-1)).toEqual({ server: "secure", host: `hook.test:${secure.port}` });
      const before = seen.length;
      const wrong = await f(`https://other.test:${secure.port}/x`, { tls } as RequestInit).then(
        () => "answered",
        (e: { code?: string }) => e.code,
      );
      expect(wrong).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
      expect(seen.length).toBe(before);
    });
  });
});
