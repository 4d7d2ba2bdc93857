import type { TestApp } from "./test-app";
import { ORIGIN } from "./test-app";

/** A browser-like client for app.request(): keeps cookies, sends a same-site Origin on POST, reads the CSRF meta. */
export class CookieJar {
  cookies = new Map<string, string>();
  csrf = "";

  constructor(private readonly t: TestApp) {}

  private store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** GET a path; remembers the CSRF token of pages that carry one. */
  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await this.t.request(path, { headers: { cookie: this.header(), ...headers } });
    this.store(res);
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("text/html")) {
      const html = await res.clone().text();
      const m = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
      if (m) this.csrf = m[1]!;
    }
    return res;
  }

  /** POST a form with the remembered CSRF token. */
  async post(
    path: string,
    form: Record<string, string | string[]> = {},
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const body = new URLSearchParams();
    if (this.csrf) body.set("_csrf", this.csrf);
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
    const res = await this.t.request(path, {
      method: "POST",
      body,
      headers: {
        cookie: this.header(),
        origin: ORIGIN,
        "content-type": "application/x-www-form-urlencoded",
        ...headers,
      },
    });
    this.store(res);
    return res;
  }
}
