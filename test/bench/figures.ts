// The shape every importable benchmark returns, and the table they print.
//
//   export async function run(opts?: { quick?: boolean }): Promise<Figure[]>
//
// One Figure per measured quantity: `value` is this build's figure, `baseline` the same quantity measured in the
// same run against what it is compared with, `ratio` value / baseline, `target` a sentence, `met` whether it held.

/** One measured quantity against its same-run baseline. */
export interface Figure {
  name: string;
  unit: string;
  value: number;
  baseline: number;
  ratio: number;
  target: string;
  met: boolean;
}

/** The median of a list of numbers (0 for none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The q-quantile (0..1) of a list of numbers, nearest rank. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

/** Print figures as a Markdown table. */
export function printFigures(title: string, figures: Figure[]): void {
  const n = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
  console.log(`\n${title}\n`);
  console.log("| figure | value | baseline | ratio | target | met |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const f of figures)
    console.log(
      `| ${f.name} | ${n(f.value)} ${f.unit} | ${n(f.baseline)} ${f.unit} | ${f.ratio.toFixed(3)} | ${f.target} | ${f.met ? "yes" : "NO"} |`,
    );
}

/** Read `--name=value` from the command line. */
export function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
