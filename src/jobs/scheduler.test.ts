import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScheduler, localTimeIsUtc, withSchedules, type JobDefinition } from "./scheduler";
import { createTestApp, givenUser, signIn, type TestApp } from "../../test/helpers/test-app";
import { insertSession } from "../store/sessions";

describe("job scheduler", () => {
  let t: TestApp;
  let lines: string[];
  beforeEach(async () => {
    // The failing job's "job failed" line is captured, not printed.
    lines = [];
    t = await createTestApp({ logLines: lines });
  });
  afterEach(async () => {
    await t.close();
  });

  test("runNow records a run; a failing job records its error; a held lock skips a singleton", async () => {
    let runs = 0;
    const jobs: JobDefinition[] = [
      { id: "counting", description: "counts", schedule: "0 0 * * *", singleton: true, run: async () => void runs++ },
      {
        id: "failing",
        description: "fails",
        schedule: "0 0 * * *",
        singleton: false,
        run: async () => Promise.reject(new Error("upstream said no")),
      },
    ];
    const s = createScheduler(jobs, () => t.deps);
    expect(await s.runNow("counting")).toBe("ok");
    expect(runs).toBe(1);
    expect(await s.runNow("failing")).toBe("failed");
    const held = await t.deps.coordination.locks.tryAcquire("job:counting", 10_000);
    expect(await s.runNow("counting")).toBe("skipped");
    expect(runs).toBe(1);
    await held!.release();
    const list = await s.list();
    const byId = Object.fromEntries(list.map((j) => [j.id, j]));
    expect(byId.counting!.lastStatus).toBe("ok");
    expect(byId.failing!.lastStatus).toBe("failed");
    expect(byId.failing!.lastError).toBe("upstream said no");
    expect(byId.counting!.nextRunAt).toBeInstanceOf(Date);
    await expect(s.runNow("nope")).rejects.toThrow("jobs: unknown job nope");
  });

  test("replicas firing one tick of a quick singleton apart run it once: the tick is claimed, not just the run", async () => {
    const runs: string[] = [];
    const job = (replica: string): JobDefinition => ({
      id: "quick",
      description: "quick",
      schedule: "* * * * * *",
      singleton: true,
      run: async () => void runs.push(replica),
    });
    // Three schedulers on one coordination, as three replicas on one Redis; each finishes its run at once.
    const replicas = ["a", "b", "c"].map((r) => createScheduler([job(r)], () => t.deps));
    for (const s of replicas) s.start();
    try {
      const start = Date.now();
      while (runs.length < 3 && Date.now() - start < 10_000) await Bun.sleep(50);
    } finally {
      for (const s of replicas) await s.stop();
    }
    const ticks = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "job finished" && l.job === "quick");
    expect(ticks.length).toBe(runs.length);
    expect(new Set(ticks.map((l) => l.tick)).size).toBe(ticks.length);
  });

  test("MEDIANEST_JOB_SCHEDULES: a job's schedule replaced; an unknown job or a bad cron refused", () => {
    const jobs: JobDefinition[] = [
      { id: "one", description: "one", schedule: "0 0 * * *", singleton: false, run: async () => {} },
    ];
    expect(withSchedules(jobs, { one: "*/5 * * * * *" })[0]!.schedule).toBe("*/5 * * * * *");
    expect(withSchedules(jobs)[0]!.schedule).toBe("0 0 * * *");
    expect(() => withSchedules(jobs, { two: "* * * * *" })).toThrow(
      "MEDIANEST_JOB_SCHEDULES names two, which is no job",
    );
    expect(() => withSchedules(jobs, { one: "every day" })).toThrow(
      "MEDIANEST_JOB_SCHEDULES has a bad schedule for one",
    );
  });

  test("a second runNow while one runs is skipped, not run twice", async () => {
    let release!: () => void;
    let runs = 0;
    const s = createScheduler(
      [
        {
          id: "slow",
          description: "slow",
          schedule: "0 0 * * *",
          singleton: false,
          run: () =>
            new Promise<void>((r) => {
              runs++;
              release = r;
            }),
        },
      ],
      () => t.deps,
    );
    const first = s.runNow("slow");
    await Bun.sleep(5);
    expect(await s.runNow("slow")).toBe("skipped");
    expect((await s.list())[0]!.running).toBe(true);
    release();
    expect(await first).toBe("ok");
    expect(runs).toBe(1);
  });

  test("session-cleanup removes expired sessions; admins run it from the jobs page", async () => {
    const user = await givenUser(t.deps);
    const old = new Date(Date.now() - 100 * 86_400_000);
    await insertSession(t.deps.database, {
      idHash: "a".repeat(64),
      userId: user.id,
      csrfToken: "x",
      userAgent: "t",
      ip: "1",
      createdAt: old,
      lastSeenAt: old,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    const admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    const page = await admin.get("/admin/jobs");
    expect(await page.text()).toContain("session-cleanup");
    const res = await admin.post("/admin/jobs/session-cleanup/run", {}, { "hx-request": "true" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("session-cleanup finished.");
    const { db, tables } = t.deps.database;
    const left = await db.select().from(tables.sessions);
    expect(left.map((s) => s.idHash)).not.toContain("a".repeat(64));
    expect((await admin.post("/admin/jobs/no-such-job/run")).status).toBe(404);
  });
});

describe("localTimeIsUtc", () => {
  const etc = () => mkdtempSync(join(tmpdir(), "mn-etc-"));
  test("reads TZ when it is set: UTC names (with or without a leading colon) are UTC, any other zone is not", () => {
    for (const tz of ["UTC", ":UTC", "Etc/UTC", ":Etc/UTC", "UTC0"])
      expect(localTimeIsUtc({ TZ: tz }, etc())).toBe(true);
    for (const tz of ["Europe/Berlin", "America/New_York", "", "CET", "UTC+1"])
      expect(localTimeIsUtc({ TZ: tz }, etc())).toBe(false);
  });

  test("without TZ, follows /etc/localtime: a link to a UTC zone, no file at all; a link elsewhere or a copied file is not", () => {
    const utc = etc();
    symlinkSync("/usr/share/zoneinfo/Etc/UTC", join(utc, "localtime"));
    expect(localTimeIsUtc({}, utc)).toBe(true);
    const berlin = etc();
    symlinkSync("/usr/share/zoneinfo/Europe/Berlin", join(berlin, "localtime"));
    expect(localTimeIsUtc({}, berlin)).toBe(false);
    const copied = etc();
    writeFileSync(join(copied, "localtime"), "TZif");
    expect(localTimeIsUtc({}, copied)).toBe(false);
    expect(localTimeIsUtc({}, etc())).toBe(true);
    const named = etc();
    writeFileSync(join(named, "timezone"), "Europe/Berlin\n");
    expect(localTimeIsUtc({}, named)).toBe(false);
  });
});
