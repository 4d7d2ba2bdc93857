// Benchmark (not a test): bun run bench:downloads [--quick]
// Both download benchmarks in one run: the worker against yt-dlp alone (download-wrapper.ts), and the cost of a long
// queue to the server's memory and pages (download-queue.ts). Each prints its rounds, then one table of all figures.
import { loadavg } from "node:os";
import { run as queue } from "./download-queue";
import { run as wrapper } from "./download-wrapper";
import { printFigures } from "./figures";

const quick = process.argv.includes("--quick");
console.log(
  `bench: load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}${quick ? " (quick)" : ""}`,
);
const figures = [...(await wrapper({ quick })), ...(await queue({ quick }))];
console.log(
  `bench: load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
printFigures("Downloads: each figure against its baseline, measured in the same run", figures);
process.exit(0);
