// The GitHub Actions workflows cannot run here; hold them to GitHub's own workflow schema (the one
// @actions/workflow-parser ships and parses with, as GitHub's editor tooling does) and to the facts they must keep.
import { describe, expect, test } from "bun:test";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

const ROOT = join(import.meta.dir, "..");
const WORKFLOWS = ["ci.yml", "release.yml"];

/** Every problem GitHub's workflow schema finds in the text: parsing, then the jobs, needs and expressions. */
async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length || !parsed.value) return errors.length ? errors : [`${name}: empty workflow`];
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((e) => e.Message);
}

async function read(name: string): Promise<string> {
  return Bun.file(join(ROOT, ".github/workflows", name)).text();
}

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  uses?: string;
  needs?: string | string[];
  services?: Record<string, { image: string; options?: string; ports?: string[] }>;
  steps?: Step[];
  permissions?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

async function workflow(name: string): Promise<Workflow> {
  return parseYaml(await read(name)) as Workflow;
}

const steps = (job: Job | undefined) => job?.steps ?? [];
const runs = (job: Job | undefined) =>
  steps(job)
    .map((s) => s.run ?? "")
    .join("\n");
const action = (job: Job | undefined, name: string) => steps(job).find((s) => s.uses?.startsWith(`${name}@`));

describe("workflows fit GitHub's workflow schema", () => {
  for (const name of WORKFLOWS) {
    test(name, async () => {
      expect(await workflowErrors(name, await read(name))).toEqual([]);
    });
  }

  test("a broken copy is refused (the check can fail)", async () => {
    const ci = await read("ci.yml");
    const misspelt = ci.replace("runs-on:", "runs_on:");
    expect(misspelt).not.toBe(ci);
    expect((await workflowErrors("ci.yml", misspelt)).join("\n")).toContain("runs_on");

    const release = await read("release.yml");
    const unknownKey = release.replace(
      "- uses: docker/setup-qemu-action@v3",
      "- uses: docker/setup-qemu-action@v3\n        tag: x",
    );
    expect(unknownKey).not.toBe(release);
    expect((await workflowErrors("release.yml", unknownKey)).join("\n")).toContain("Unexpected value 'tag'");

    const badNeeds = release.replace("needs: test\n    runs-on", "needs: tests\n    runs-on");
    expect(badNeeds).not.toBe(release);
    expect(await workflowErrors("release.yml", badNeeds)).not.toEqual([]);
  });
});

describe("ci.yml", () => {
  test("runs on pushes and pull requests, and for release.yml", async () => {
    const wf = await workflow("ci.yml");
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(["push", "pull_request", "workflow_call"]));
  });

  test("PostgreSQL and Redis are service containers on their usual ports, with health checks", async () => {
    const services = (await workflow("ci.yml")).jobs.test?.services ?? {};
    expect(services.postgres?.image).toMatch(/^postgres:\d+/);
    expect(services.postgres?.ports).toContain("5432:5432");
    expect(services.redis?.image).toMatch(/^redis:\d+/);
    expect(services.redis?.ports).toContain("6379:6379");
    for (const s of [services.postgres, services.redis]) expect(s?.options).toContain("--health-cmd");
  });

  test("sets up Bun, installs what .ci/run installs and runs the README's test command", async () => {
    const job = (await workflow("ci.yml")).jobs.test;
    expect(action(job, "oven-sh/setup-bun")).toBeDefined();
    const script = runs(job);
    for (const tool of ["yt-dlp", "ffmpeg", "nginx", "prometheus", "postgresql-client", "redis-server"])
      expect(script).toContain(tool);
    expect(script).toContain("CHROMIUM_PATH");
    expect(script).toContain("bun install --frozen-lockfile");
    const readme = await Bun.file(join(ROOT, "README.md")).text();
    const command = readme.match(/^(\S.*?)\s+# the whole test suite$/m)?.[1];
    expect(command).toBe("npm test");
    expect(script.split("\n")).toContain(command!);
  });
});

test("both set up the Bun the Dockerfile builds with", async () => {
  const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
  const version = dockerfile.match(/^ARG BUN_VERSION=(\S+)$/m)?.[1];
  expect(version).toBeDefined();
  for (const name of WORKFLOWS) {
    const wf = await workflow(name);
    const setups = Object.values(wf.jobs).flatMap((job) =>
      steps(job).filter((s) => s.uses?.startsWith("oven-sh/setup-bun@")),
    );
    expect(setups.length).toBeGreaterThan(0);
    for (const s of setups) expect(String(s.with?.["bun-version"])).toBe(version!);
  }
});

describe("release.yml", () => {
  test("a v* tag runs the tests, then the binaries and the image", async () => {
    const wf = await workflow("release.yml");
    expect(wf.on).toEqual({ push: { tags: ["v*"] } });
    expect(wf.jobs.test?.uses).toBe("./.github/workflows/ci.yml");
    expect(wf.jobs.binaries?.needs).toBe("test");
    expect(wf.jobs.image?.needs).toBe("test");
  });

  test("builds the binaries with `bun run release` and attaches them with SHA256SUMS", async () => {
    const job = (await workflow("release.yml")).jobs.binaries;
    expect(job?.permissions?.contents).toBe("write");
    const script = runs(job);
    expect(script).toContain("bun run release");
    expect(script).toContain("cd dist/release");
    expect(script).toContain("sha256sum -c SHA256SUMS");
    expect(script).toMatch(/gh release (create|upload) "\$TAG" \.\/\*/);
  });

  test("pushes a multi-arch image to the repository's own registry", async () => {
    const job = (await workflow("release.yml")).jobs.image;
    expect(job?.permissions?.packages).toBe("write");
    expect(action(job, "docker/login-action")?.with?.registry).toBe("ghcr.io");
    expect(action(job, "docker/metadata-action")?.with?.images).toBe("ghcr.io/${{ github.repository }}");
    const build = action(job, "docker/build-push-action")?.with;
    expect(build?.platforms?.split(",")).toEqual(["linux/amd64", "linux/arm64"]);
    expect(build?.push as unknown).toBe(true);
    expect(build?.tags).toBe("${{ steps.meta.outputs.tags }}");
    expect(action(job, "docker/setup-qemu-action")).toBeDefined();
  });
});
