import { expect, test } from "bun:test";
import { safeNext } from "./session-cookie";

test("safeNext keeps same-site paths and turns everything else into /", () => {
  expect(safeNext("/admin/users?q=a%20b")).toBe("/admin/users?q=a%20b");
  expect(safeNext("/account")).toBe("/account");
  for (const bad of [
    undefined,
    "",
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/x",
    "/ x",
    "evil",
    "/é",
  ]) {
    expect(safeNext(bad)).toBe("/");
  }
});
