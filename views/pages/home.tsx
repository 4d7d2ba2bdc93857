import { raw } from "hono/html";
import type { StatusOverview } from "../../src/services/status-types";
import type { User } from "../../src/store/users";
import { esc } from "../components/escape";
import { ELLIPSIS } from "../components/format";
import { once } from "../components/kept";
import {
  NowPlayingSection,
  RecentlyAddedSection,
  StatusSummarySection,
  type RecentState,
  type SectionState,
  type StreamView,
} from "../partials/dashboard";
import { type CardsState, DiscoverRow } from "./discover";

/** What the signed-in dashboard shows on first render; sections not cached yet are "loading" and fill in live. */
export interface DashboardView {
  status: { overview: StatusOverview | null; error?: string } | null;
  nowPlaying: SectionState<StreamView[]>;
  recentlyAdded: RecentState;
  /** The trending row from Seerr's discover lists. */
  discover?: CardsState;
  /** Show "your downloads" (it loads itself, so the page costs no query for it). */
  downloads?: boolean;
  /** Show "your requests" (it loads itself too). */
  requests?: boolean;
}

// The sign-in prompt never changes: rendered once, kept as the escaped string the layout takes.
const signedOut = once(() => (
  <section class="card narrow" aria-labelledby="welcome-title">
    <h1 id="welcome-title">MediaNest</h1>
    <p>
      Sign in to see whether everything is up, what is playing and what was just added, and to get your notifications.
    </p>
    <a class="btn btn-primary" href="/login">
      Sign in
    </a>
  </section>
));

// The cards that load themselves are the same for everyone.
const yourDownloads = once(() => (
  <div class="card" aria-labelledby="your-downloads-title">
    <h2 id="your-downloads-title">
      <a href="/downloads">Your downloads</a>
    </h2>
    <div hx-get="/downloads?part=dashboard" hx-trigger="load, mn-downloads from:#live" hx-swap="innerHTML">
      <p class="muted">Loading{ELLIPSIS}</p>
    </div>
  </div>
));
const yourRequests = once(() => (
  <div class="card" aria-labelledby="your-requests-title">
    <h2 id="your-requests-title">
      <a href="/requests">Your requests</a>
    </h2>
    <div
      id="your-requests"
      hx-get="/requests?part=dashboard"
      hx-trigger="load, mn-requests from:#live"
      hx-swap="innerHTML"
    >
      <p class="muted">Loading{ELLIPSIS}</p>
    </div>
  </div>
));

/**
 * Render the home page: a sign-in prompt, or the signed-in user's dashboard. The dashboard is a string around its
 * sections, as the layout is: its sections are mostly kept markup, and hono/jsx rendering the elements around them
 * took a fifth of the page's time (docs/performance.md, "Measured decisions"). The name is escaped as JSX escapes it.
 */
export function HomePage(props: { user: User | undefined; dashboard?: DashboardView }) {
  if (!props.user) return signedOut();
  const isAdmin = props.user.role === "admin";
  const d = props.dashboard;
  let sections = "";
  if (d?.status) sections += StatusSummarySection({ overview: d.status.overview, error: d.status.error, isAdmin });
  if (d) sections += NowPlayingSection({ state: d.nowPlaying, isAdmin });
  if (d) sections += RecentlyAddedSection({ state: d.recentlyAdded });
  if (d?.downloads) sections += yourDownloads();
  if (d?.requests) sections += yourRequests();
  if (d?.discover)
    sections += `<div class="card">${DiscoverRow({ id: "trending", title: "Trending", state: d.discover })}</div>`;
  return raw(
    `<section aria-labelledby="home-title" class="dashboard"><h1 id="home-title">Hello, ${esc(props.user.displayName)}</h1>${sections}</section>`,
  );
}
