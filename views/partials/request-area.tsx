import { CsrfField } from "../components/form";

/** A season in the picker: whether it can be chosen, and if not, why. */
export interface SeasonChoice {
  seasonNumber: number;
  name: string;
  requestable: boolean;
  /** Why it cannot be chosen ("In Plex", "Requested"). */
  note: string | null;
}

/** One copy's state in the request area. */
export interface CopyView {
  state: "available" | "requested" | "open";
  label: string;
}

/** What the request area of a title page shows, already decided. */
export type RequestAreaView =
  | { kind: "not-allowed" }
  | {
      kind: "movie" | "tv";
      action: string;
      csrf: string;
      standard: CopyView;
      /** Null when the person may not ask in 4K or Seerr has no 4K server for it. */
      fourK: CopyView | null;
      seasons: SeasonChoice[];
      /** The person's own live requests for this title, linked. */
      mine: { label: string }[];
    };

/** A message after a request: done, or why not (with a link to look further). */
export interface RequestFlash {
  ok: boolean;
  message: string;
  link?: { href: string; label: string } | undefined;
}

function Flash(props: { flash: RequestFlash }) {
  const f = props.flash;
  return (
    <p class={`alert ${f.ok ? "alert-ok" : "alert-error"}`} role={f.ok ? "status" : "alert"}>
      {f.message}
      {f.link ? (
        <>
          {" "}
          <a href={f.link.href}>{f.link.label}</a>
        </>
      ) : null}
    </p>
  );
}

/**
 * The request area: a movie in one click (and in 4K where allowed), a show with a season picker whose seasons
 * already requested or in Plex are shown but cannot be chosen. htmx swaps the answer in place; without JavaScript
 * the form posts and the page comes back.
 */
export function RequestArea(props: { view: RequestAreaView; flash?: RequestFlash | undefined }) {
  const v = props.view;
  return (
    <>
      <h2 id="request-title">Request</h2>
      {props.flash ? <Flash flash={props.flash} /> : null}
      {v.kind === "not-allowed" ? (
        <p class="muted">You may not request movies and shows. Ask the admin if you should.</p>
      ) : (
        <form
          method="post"
          action={v.action}
          hx-post={v.action}
          hx-target="#request-area"
          hx-swap="innerHTML"
          hx-disable="find button"
        >
          <CsrfField token={v.csrf} />
          {v.mine.length > 0 ? (
            <p class="hint">
              You asked for this: {v.mine.map((m) => m.label).join("; ")}. <a href="/requests">Your requests</a>
            </p>
          ) : null}
          {v.kind === "tv" && v.standard.state === "open" ? (
            <fieldset class="season-picker">
              <legend>Seasons</legend>
              <label class="checkbox">
                <input type="checkbox" name="seasons" value="all" /> All seasons not yet requested
              </label>
              {v.seasons.map((s) => (
                <label class="checkbox">
                  <input type="checkbox" name="seasons" value={String(s.seasonNumber)} disabled={!s.requestable} />
                  {s.name}
                  {s.note ? <span class="hint">{s.note}</span> : null}
                </label>
              ))}
            </fieldset>
          ) : null}
          {v.standard.state === "open" ? (
            <button class="btn btn-primary btn-block" type="submit" name="is4k" value="0">
              {v.kind === "movie" ? "Request" : "Request the chosen seasons"}
            </button>
          ) : (
            <p>
              <strong>{v.standard.label}</strong>
            </p>
          )}
          {v.fourK ? (
            v.fourK.state === "open" ? (
              <button class="btn btn-block mt-half" type="submit" name="is4k" value="1">
                {v.kind === "movie" ? "Request in 4K" : "Request the chosen seasons in 4K"}
              </button>
            ) : (
              <p class="hint">4K: {v.fourK.label}</p>
            )
          ) : null}
        </form>
      )}
    </>
  );
}
