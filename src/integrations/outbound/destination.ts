import { isIP } from "node:net";

/** True for addresses inside this machine or its networks: loopback, private, link-local, CGNAT, unspecified. */
export function isPrivateAddress(ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const [a = 0, b = 0] = v4.split(".").map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const v6 = ip.toLowerCase();
  return v6 === "::" || v6 === "::1" || v6.startsWith("fc") || v6.startsWith("fd") || /^fe[89ab]/.test(v6);
}

/**
 * Say why a host is a private or local destination (a literal private address, or a name that resolves to one);
 * undefined for a public destination. A name that does not resolve is left to the send itself to report.
 */
export async function privateDestination(host: string): Promise<string | undefined> {
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare)) return isPrivateAddress(bare) ? `${bare} is a private or local address` : undefined;
  if (bare === "localhost" || bare.endsWith(".localhost")) return `${bare} is this machine`;
  let addresses: { address: string }[];
  try {
    addresses = await Bun.dns.lookup(bare, {});
  } catch {
    return undefined;
  }
  const inside = addresses.find((a) => isPrivateAddress(a.address));
  return inside ? `${bare} resolves to ${inside.address}, a private or local address` : undefined;
}
