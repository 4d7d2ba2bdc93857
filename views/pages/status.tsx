import type {
  CheckPoint,
  ServiceState,
  ServiceTile,
  StatusAnnouncement,
  StatusOverview,
  UptimePeriod,
} from "../../src/services/status-types";
import { CsrfField, Empty } from "../components/form";
import { formatDate, When } from "../components/format";
import { oncePerObject } from "../components/kept";
import { Markdown } from "../components/markdown";

const STATE_LABEL: Record<ServiceState, string> = {
  up: "Up",
  degraded: "Degraded",
  down: "Down",
  maintenance: "Maintenance",
  unknown: "Unknown",
};

const PILL_CLASS: Record<ServiceState, string> = {
  up: "pill pill-up",
  degraded: "pill pill-degraded",
  down: "pill pill-down",
  maintenance: "pill pill-maintenance",
  unknown: "pill",
};

/** Format an uptime fraction as "99.95 %"; "—" when there is no data. */
export function formatUptime(f: number | null): string {
  if (f === null) return "—";
  if (f >= 1) return "100 %";
  return `${(Math.floor(f * 10_000) / 100).toFixed(2)} %`;
}

/** A service's state as a pill with its name in words (colour is never the only signal). */
export function StatePill(props: { state: ServiceState }) {
  return <span class={PILL_CLASS[props.state]}>{STATE_LABEL[props.state]}</span>;
}

function pointTitle(p: CheckPoint): string {
  return `${formatDate(p.at)} · ${STATE_LABEL[p.state].toLowerCase()}${p.responseMs !== null ? ` · ${p.responseMs} ms` : ""}`;
}

/** The strip of recent checks, oldest first; a screen reader hears the summary, a mouse finds each check's time. */
function RecentStrip(props: { recent: CheckPoint[] }) {
  if (props.recent.length === 0) return <div class="hint">No checks recorded yet.</div>;
  const counts = new Map<ServiceState, number>();
  for (const p of props.recent) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  const summary = [...counts.entries()].map(([s, n]) => `${n} ${STATE_LABEL[s].toLowerCase()}`).join(", ");
  return (
    <div class="status-strip" role="img" aria-label={`Last ${props.recent.length} checks: ${summary}`}>
      {props.recent.map((p) => (
        <span class={`strip-${p.state}`} title={pointTitle(p)}></span>
      ))}
    </div>
  );
}

const PERIOD: Record<UptimePeriod, { label: string; ms: number }> = {
  day: { label: "24 h", ms: 86_400_000 },
  week: { label: "7 d", ms: 7 * 86_400_000 },
  month: { label: "30 d", ms: 30 * 86_400_000 },
};

/** Name the periods MediaNest's own history covers only in part ("7 d and 30 d measured by MediaNest since …"). */
function MeasuredSince(props: { tile: ServiceTile; now: Date }) {
  const since = props.tile.measuredSince;
  if (!since) return null;
  const partial = props.tile.measured.filter((p) => since.getTime() > props.now.getTime() - PERIOD[p].ms);
  if (partial.length === 0) return null;
  const labels = partial.map((p) => PERIOD[p].label);
  const named = labels.length === 1 ? labels[0] : `${labels.slice(0, -1).join(", ")} and ${labels.at(-1)}`;
  return (
    <p class="hint status-measured">
      {named} measured by MediaNest since <When at={since} />
    </p>
  );
}

function Tile(props: { tile: ServiceTile; now: Date }) {
  const t = props.tile;
  const headingId = `tile-${t.id.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  return (
    <article class="card status-tile" data-tile={t.id} data-state={t.state} aria-labelledby={headingId}>
      <div class="status-tile-head">
        <h3 id={headingId}>{t.name}</h3>
        <StatePill state={t.state} />
      </div>
      {t.reason ? <p class={`status-reason status-reason-${t.state}`}>{t.reason}</p> : null}
      <dl class="status-facts">
        <div>
          <dt>Response</dt>
          <dd>{t.responseMs !== null ? `${t.responseMs} ms` : "—"}</dd>
        </div>
        <div>
          <dt>24 h</dt>
          <dd>{formatUptime(t.uptime.day)}</dd>
        </div>
        <div>
          <dt>7 d</dt>
          <dd>{formatUptime(t.uptime.week)}</dd>
        </div>
        <div>
          <dt>30 d</dt>
          <dd>{formatUptime(t.uptime.month)}</dd>
        </div>
      </dl>
      <MeasuredSince tile={t} now={props.now} />
      <RecentStrip recent={t.recent} />
    </article>
  );
}

const ANNOUNCEMENT_CLASS: Record<StatusAnnouncement["style"], string> = {
  danger: "alert alert-error",
  warning: "alert alert-warn",
  maintenance: "alert alert-info",
  info: "alert alert-info",
  primary: "alert alert-info",
};

function Announcement(props: { a: StatusAnnouncement }) {
  const { a } = props;
  return (
    <div class={`${ANNOUNCEMENT_CLASS[a.style]} status-announcement`} role="status">
      <strong>
        {a.style === "maintenance" ? "Maintenance: " : ""}
        {a.title}
      </strong>
      {a.content ? <Markdown text={a.content} class="markdown status-announcement-body" /> : null}
      {a.at ? (
        <div class="hint">
          Posted <When at={a.at} />
        </div>
      ) : null}
    </div>
  );
}

/** Group tiles in order: MediaNest's own checks first, then Kuma's groups as Kuma orders them. */
function groupTiles(tiles: ServiceTile[]): [string, ServiceTile[]][] {
  const groups = new Map<string, ServiceTile[]>();
  for (const t of [
    ...tiles.filter((t) => t.source === "medianest"),
    ...tiles.filter((t) => t.source !== "medianest"),
  ]) {
    const list = groups.get(t.group) ?? [];
    list.push(t);
    groups.set(t.group, list);
  }
  return [...groups.entries()];
}

// The overview is kept a second per replica (src/services/status.ts): its tiles, a few hundred elements with a
// check time in every strip cell, are rendered once for admins and once for everyone else while it lasts.
const keptTiles = oncePerObject<StatusOverview>();

/** The live region of the status page: announcements, source problems and tiles; refreshes itself on "mn-status". */
export function StatusTiles(props: { overview: StatusOverview; isAdmin: boolean }) {
  return keptTiles(props.overview, String(props.isAdmin), () => statusTiles(props));
}

function statusTiles(props: { overview: StatusOverview; isAdmin: boolean }) {
  const o = props.overview;
  const groups = groupTiles(o.tiles);
  return (
    <div
      id="status-tiles"
      hx-get="/status"
      hx-trigger="mn-status from:#live"
      hx-select="#status-tiles"
      hx-swap="outerHTML"
    >
      {o.announcements.map((a) => (
        <Announcement a={a} />
      ))}
      {o.sourceErrors.map((e) => (
        <div class="alert alert-warn" role="alert">
          {e}. The Uptime Kuma monitors below show their last known state.
        </div>
      ))}
      {groups.length === 0 ? (
        <Empty title="Nothing is watched yet">
          {props.isAdmin
            ? "Connect Plex, Seerr or Uptime Kuma on the admin pages and their state shows up here."
            : "When the owner connects services, their state shows up here."}
        </Empty>
      ) : (
        groups.map(([name, tiles], i) => (
          <section class="status-group" aria-labelledby={`status-group-${i}`}>
            <h2 id={`status-group-${i}`}>{name}</h2>
            <div class="grid">
              {tiles.map((t) => (
                <Tile tile={t} now={o.updatedAt ?? new Date()} />
              ))}
            </div>
          </section>
        ))
      )}
      <p class="hint status-updated">
        {o.updatedAt ? (
          <>
            Last checked <When at={o.updatedAt} />
          </>
        ) : (
          "Not checked yet."
        )}
      </p>
    </div>
  );
}

/** The status page: every watched service, its uptime and recent checks; admins can check now. */
export function StatusPage(props: { overview: StatusOverview; isAdmin: boolean; csrf?: string }) {
  return (
    <section aria-labelledby="status-title">
      <div class="page-head">
        <h1 id="status-title">Status</h1>
        {props.isAdmin ? (
          <form
            method="post"
            action="/status/check"
            hx-post="/status/check"
            hx-target="#status-tiles"
            hx-select="#status-tiles"
            hx-swap="outerHTML"
            class="row"
          >
            <CsrfField token={props.csrf} />
            <button class="btn" type="submit">
              Check now
            </button>
            <span class="htmx-indicator hint" aria-hidden="true">
              Checking…
            </span>
          </form>
        ) : null}
      </div>
      <StatusTiles overview={props.overview} isAdmin={props.isAdmin} />
    </section>
  );
}
