import type { ServiceState, StatusOverview } from "../../src/services/status-types";
import { ELLIPSIS, When } from "../components/format";
import { oncePerKey, oncePerObject } from "../components/kept";
import { ProgressFill } from "../components/progress";

// Each section is its own htmx target: it swaps itself (outerHTML), so the answer carries the next trigger.

/** A playback as the dashboard shows it; poster URLs are already signed. */
export interface StreamView {
  key: string;
  user: string;
  title: string;
  subtitle: string | null;
  player: string;
  state: "playing" | "paused" | "buffering" | "unknown";
  /** 0–100, or null when the length is unknown. */
  percent: number | null;
  position: string;
  transcoding: boolean;
  location: "lan" | "wan" | null;
  posterUrl: string | null;
}

/** A recently added item as the dashboard shows it; poster URLs are already signed. */
export interface RecentView {
  key: string;
  title: string;
  context: string | null;
  year: number | null;
  posterUrl: string | null;
}

/** What a Plex-backed section has to show. */
export type SectionState<T> =
  | { kind: "loading" }
  | { kind: "unconfigured"; isAdmin: boolean }
  | { kind: "error"; message: string }
  | { kind: "ok"; data: T };

/** What "Recently added" has to show: also why a member has no library of their own to show. */
export type RecentState = SectionState<RecentView[]> | { kind: "no-library"; reason: "unlinked" | "stale" };

/** Say why a member sees no Plex library: no Plex account linked, or no token for this server yet. */
export function NoLibraryReason(props: { reason: "unlinked" | "stale" }) {
  return props.reason === "unlinked" ? (
    <p class="muted">
      Your MediaNest account is not linked to a Plex account, so there is no Plex library to show you: Plex shows each
      person only the libraries the owner shared with them. Sign out and sign in with Plex to see yours.
    </p>
  ) : (
    <p class="muted">
      MediaNest has no Plex sign-in of yours for this server yet, so it cannot ask Plex which libraries are shared with
      you. Sign out and sign in with Plex again to see them.
    </p>
  );
}

const STATE_PILL: Record<StreamView["state"], string> = {
  playing: "pill pill-up",
  paused: "pill pill-pending",
  buffering: "pill pill-degraded",
  unknown: "pill",
};

function PlexNotConfigured(props: { isAdmin: boolean }) {
  return (
    <p class="muted">
      No Plex server is connected to MediaNest yet.{" "}
      {props.isAdmin ? <a href="/admin/integrations">Connect your Plex server</a> : "Ask the owner to connect one."}
    </p>
  );
}

function Failure(props: { message: string }) {
  return (
    <p class="alert alert-error" role="alert">
      {props.message}
    </p>
  );
}

function Loading(props: { what: string; href: string }) {
  return (
    <p class="muted">
      Asking Plex for {props.what}
      {ELLIPSIS}
      <noscript>
        {" "}
        <a href={props.href}>Show it</a>
      </noscript>
    </p>
  );
}

// A section without data (still loading, or no Plex) is the same for everyone who sees it: rendered once.
const keptSection = oncePerKey();

/** The "Now playing" section; loads itself when empty and refreshes while the page is open. */
export function NowPlayingSection(props: { state: SectionState<StreamView[]>; isAdmin: boolean }) {
  const { state } = props;
  if (state.kind === "loading" || state.kind === "unconfigured")
    return keptSection(
      `now-playing ${state.kind} ${props.isAdmin} ${state.kind === "unconfigured" && state.isAdmin}`,
      () => nowPlaying(props),
    );
  return nowPlaying(props);
}

function nowPlaying(props: { state: SectionState<StreamView[]>; isAdmin: boolean }) {
  const { state } = props;
  const trigger = state.kind === "loading" ? "load" : state.kind === "unconfigured" ? undefined : "every 15s";
  return (
    <section
      id="dash-now-playing"
      class="card"
      aria-labelledby="dash-now-playing-title"
      aria-busy={state.kind === "loading" ? "true" : undefined}
      hx-get={trigger ? "/dashboard/now-playing" : undefined}
      hx-trigger={trigger}
      hx-swap={trigger ? "outerHTML" : undefined}
    >
      <h2 id="dash-now-playing-title">Now playing</h2>
      {state.kind === "loading" ? (
        <Loading what="what is playing" href="/dashboard/now-playing" />
      ) : state.kind === "unconfigured" ? (
        <PlexNotConfigured isAdmin={state.isAdmin} />
      ) : state.kind === "error" ? (
        <Failure message={state.message} />
      ) : state.data.length === 0 ? (
        <p class="muted">
          {props.isAdmin
            ? "Nobody is watching anything on Plex right now."
            : "You are not watching anything on Plex right now."}
        </p>
      ) : (
        <ul class="streams">
          {state.data.map((s) => (
            <li class="stream" data-stream={s.key}>
              {s.posterUrl ? (
                <img class="stream-poster" src={s.posterUrl} alt="" width="60" height="90" loading="lazy" />
              ) : (
                <span class="stream-poster" aria-hidden="true"></span>
              )}
              <div class="stream-body">
                <div class="row row-between">
                  <strong class="stream-title">{s.title}</strong>
                  <span class={STATE_PILL[s.state]}>{s.state}</span>
                </div>
                {s.subtitle ? <div class="muted">{s.subtitle}</div> : null}
                <div class="hint">
                  {props.isAdmin ? (
                    <>
                      <span class="stream-user">{s.user}</span>
                      {" · "}
                    </>
                  ) : null}
                  <span class="stream-player">{s.player}</span>
                  {" · "}
                  <span class="stream-decision">{s.transcoding ? "Transcoding" : "Direct play"}</span>
                  {s.location ? ` · ${s.location === "lan" ? "local network" : "remote"}` : null}
                </div>
                {s.percent === null ? null : (
                  <div
                    class="progress"
                    role="progressbar"
                    aria-label={`Progress of ${s.title}`}
                    aria-valuemin="0"
                    aria-valuemax="100"
                    aria-valuenow={String(s.percent)}
                    aria-valuetext={s.position}
                  >
                    <ProgressFill percent={s.percent} />
                  </div>
                )}
                <div class="hint">{s.position}</div>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The "Recently added" section: posters through the signed image proxy. */
export function RecentlyAddedSection(props: { state: RecentState }) {
  const { state } = props;
  if (state.kind === "loading" || state.kind === "unconfigured" || state.kind === "no-library") {
    const detail = state.kind === "unconfigured" ? state.isAdmin : state.kind === "no-library" ? state.reason : "";
    return keptSection(`recently-added ${state.kind} ${detail}`, () => recentlyAdded(props));
  }
  return recentlyAdded(props);
}

function recentlyAdded(props: { state: RecentState }) {
  const { state } = props;
  const loading = state.kind === "loading";
  return (
    <section
      id="dash-recently-added"
      class="card"
      aria-labelledby="dash-recently-added-title"
      aria-busy={loading ? "true" : undefined}
      hx-get={loading ? "/dashboard/recently-added" : undefined}
      hx-trigger={loading ? "load" : undefined}
      hx-swap={loading ? "outerHTML" : undefined}
    >
      <h2 id="dash-recently-added-title">
        <a href="/library">Recently added</a>
      </h2>
      {state.kind === "no-library" ? (
        <NoLibraryReason reason={state.reason} />
      ) : state.kind === "loading" ? (
        <Loading what="what is new" href="/dashboard/recently-added" />
      ) : state.kind === "unconfigured" ? (
        <PlexNotConfigured isAdmin={state.isAdmin} />
      ) : state.kind === "error" ? (
        <Failure message={state.message} />
      ) : state.data.length === 0 ? (
        <p class="muted">Nothing has been added to Plex yet.</p>
      ) : (
        <ul class="posters">
          {state.data.map((m) => (
            <li class="poster">
              {m.posterUrl ? (
                <img src={m.posterUrl} alt="" width="120" height="180" loading="lazy" />
              ) : (
                <span class="poster-blank" aria-hidden="true"></span>
              )}
              <span class="poster-title">{m.title}</span>
              {m.context || m.year ? <span class="hint">{m.context ?? String(m.year)}</span> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const STATE_LABEL: Record<ServiceState, string> = {
  up: "up",
  degraded: "degraded",
  down: "down",
  maintenance: "in maintenance",
  unknown: "unknown",
};
const STATE_CLASS: Record<ServiceState, string> = {
  up: "pill pill-up",
  degraded: "pill pill-degraded",
  down: "pill pill-down",
  maintenance: "pill pill-maintenance",
  unknown: "pill",
};

// The overview is kept a second per replica (src/services/status.ts): its summary is rendered once for admins and
// once for everyone else while it lasts.
const keptSummary = oncePerObject<StatusOverview>();

/** The status summary: counts by state and the services that are not up; refreshes when the status changes. */
export function StatusSummarySection(props: { overview: StatusOverview | null; error?: string; isAdmin: boolean }) {
  if (props.overview && !props.error)
    return keptSummary(props.overview, String(props.isAdmin), () => statusSummary(props));
  return statusSummary(props);
}

function statusSummary(props: { overview: StatusOverview | null; error?: string; isAdmin: boolean }) {
  const tiles = props.overview?.tiles ?? [];
  const count = (s: ServiceState) => tiles.filter((t) => t.state === s).length;
  const notUp = tiles.filter((t) => t.state !== "up");
  const order: ServiceState[] = ["up", "degraded", "down", "unknown"];
  if (count("maintenance") > 0) order.splice(3, 0, "maintenance");
  return (
    <section
      id="dash-status"
      class="card"
      aria-labelledby="dash-status-title"
      hx-get="/dashboard/status"
      hx-trigger="mn-status from:#live"
      hx-swap="outerHTML"
    >
      <div class="row row-between">
        <h2 id="dash-status-title" class="m-0">
          <a href="/status">Status</a>
        </h2>
        {props.overview?.updatedAt ? (
          <span class="hint">
            checked <When at={new Date(props.overview.updatedAt)} />
          </span>
        ) : null}
      </div>
      {props.error ? <Failure message={props.error} /> : null}
      {tiles.length === 0 ? (
        props.error ? null : (
          <p class="muted">
            No services are watched yet.
            {props.isAdmin ? (
              <>
                {" "}
                <a href="/admin/integrations">Set up status checks</a>
              </>
            ) : null}
          </p>
        )
      ) : (
        <>
          <p class="row status-counts">
            {order.map((s) => (
              <span class={STATE_CLASS[s]} data-state={s}>
                {count(s)} {STATE_LABEL[s]}
              </span>
            ))}
          </p>
          {notUp.length === 0 ? (
            <p class="muted">Everything is up.</p>
          ) : (
            <ul class="status-problems">
              {notUp.map((t) => (
                <li>
                  <a href="/status">{t.name}</a> <span class={STATE_CLASS[t.state]}>{STATE_LABEL[t.state]}</span>
                  {t.reason ? <span class="hint"> {t.reason}</span> : null}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {(props.overview?.sourceErrors ?? []).map((e) => (
        <p class="hint">{e}</p>
      ))}
    </section>
  );
}
