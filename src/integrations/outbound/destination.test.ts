import { expect, test } from "bun:test";
import { isPrivateAddress, privateDestination } from "./destination";

test("private, loopback, link-local and CGNAT addresses are told apart from public ones", () => {
  for (const ip of [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.10",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fd00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
  ]) {
    expect(isPrivateAddress(ip)).toBe(true);
  }
  for (const ip of ["8.8.8.8", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]) {
    expect(isPrivateAddress(ip)).toBe(false);
  }
});

test("privateDestination names literal and resolved private destinations", async () => {
  expect(await privateDestination("127.0.0.1")).toContain("private or local");
  expect(await privateDestination("[::1]")).toContain("private or local");
  expect(await privateDestination("localhost")).toContain("this machine");
  expect(await privateDestination("93.184.216.34")).toBeUndefined();
});
