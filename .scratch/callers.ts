// bun .scratch/callers.ts <dir> <fnName>: self time of fnName split by caller chain (3 deep)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
const [dir, name] = process.argv.slice(2);
const by = new Map<string, number>();
let tot = 0;
for (const f of readdirSync(dir!).filter((f) => f.endsWith(".cpuprofile"))) {
  const p = JSON.parse(readFileSync(join(dir!, f), "utf8"));
  const nodes = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  p.samples.forEach((id: number, i: number) => {
    const n = nodes.get(id);
    if (n.callFrame.functionName !== name) return;
    const chain: string[] = [];
    let cur = parent.get(id);
    for (let k = 0; k < 4 && cur !== undefined; k++) {
      const cf = nodes.get(cur).callFrame;
      chain.push(`${cf.functionName || "anon"}@${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}`);
      cur = parent.get(cur);
    }
    const key = chain.join(" < ");
    const dt = p.timeDeltas[i] ?? 0;
    by.set(key, (by.get(key) ?? 0) + dt);
    tot += dt;
  });
}
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(((100 * v) / tot).toFixed(1), "%", (v / 1000).toFixed(0), "ms", k);
