import type { LiveDownloadProgress } from "../../src/services/events";
import { ProgressFill } from "../components/progress";

/** Say a speed the way download tools do: 1.2 MiB/s. */
export function formatSpeed(bytesPerSecond: number | null): string {
  if (!bytesPerSecond || bytesPerSecond <= 0) return "";
  const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
  let v = bytesPerSecond;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 10 || u === 0 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

/** Say an ETA as 1:02:03 or 4:05 left. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || seconds < 0 || !Number.isFinite(seconds)) return "";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return `${h > 0 ? `${h}:${String(m).padStart(2, "0")}` : m}:${r} left`;
}

/** The id of a download's live progress region; SSE partials replace it. */
export function progressId(downloadId: string): string {
  return `dl-progress-${downloadId}`;
}

/** A download's progress bar with percent, speed, ETA and, for playlists, which item. */
export function DownloadProgressBar(props: {
  downloadId: string;
  progress: LiveDownloadProgress | null;
  label?: string;
}) {
  const p = props.progress;
  const percent = p?.percent ?? null;
  const facts = p
    ? [
        p.status === "processing" ? "Processing" : percent !== null ? `${Math.floor(percent)} %` : "Downloading",
        formatSpeed(p.status === "processing" ? null : p.speed),
        p.status === "processing" ? "" : formatEta(p.etaSeconds),
        p.itemCount > 1 ? `item ${p.position} of ${p.itemCount}` : "",
      ].filter(Boolean)
    : [props.label ?? "Starting"];
  return (
    <div id={progressId(props.downloadId)} class="dl-progress" data-percent={percent === null ? "" : String(percent)}>
      <div
        class={`progress${percent === null ? " progress-unknown" : ""}`}
        role="progressbar"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow={percent === null ? undefined : String(Math.floor(percent))}
        aria-label="Download progress"
      >
        <ProgressFill percent={percent === null ? 100 : percent} />
      </div>
      <div class="dl-facts muted">{facts.join(" · ")}</div>
    </div>
  );
}
