import type { Child } from "hono/jsx";
import { plural } from "./format";

/** One message per form field that failed, by field name ("_form" for the form as a whole). */
export type FieldErrors = Record<string, string>;
/** What the user typed, by field name, to show again with the errors. */
export type FormValues = Record<string, string>;

/** The hidden CSRF field every form carries, for browsers without JavaScript. */
export function CsrfField(props: { token?: string }) {
  return props.token ? <input type="hidden" name="_csrf" value={props.token} /> : null;
}

export interface FieldProps {
  label: string;
  name: string;
  /** The input's id, where one page holds the same field more than once; `f-<name>` otherwise. */
  id?: string;
  type?: string;
  value?: string | number | null;
  error?: string;
  hint?: string;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  maxlength?: number;
  min?: number;
  autofocus?: boolean;
}

/** A labelled input with its hint and inline error, wired for screen readers. */
export function Field(props: FieldProps) {
  const id = props.id ?? `f-${props.name}`;
  const described =
    [props.hint ? `${id}-hint` : "", props.error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        required={props.required}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        maxlength={props.maxlength}
        min={props.min}
        autofocus={props.autofocus}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={described}
      />
      {props.hint ? (
        <div class="hint" id={`${id}-hint`}>
          {props.hint}
        </div>
      ) : null}
      {props.error ? (
        <div class="field-error" id={`${id}-error`}>
          {props.error}
        </div>
      ) : null}
    </div>
  );
}

/** A checkbox with its label. */
export function Checkbox(props: { label: string; name: string; value?: string; checked?: boolean }) {
  return (
    <label class="checkbox">
      <input type="checkbox" name={props.name} value={props.value ?? "on"} checked={props.checked} />
      {props.label}
    </label>
  );
}

/** A select with options. */
export function Select(props: {
  label: string;
  name: string;
  value?: string;
  options: [string, string][];
  error?: string;
}) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} aria-invalid={props.error ? "true" : undefined}>
        {props.options.map(([v, l]) => (
          <option value={v} selected={v === props.value}>
            {l}
          </option>
        ))}
      </select>
      {props.error ? <div class="field-error">{props.error}</div> : null}
    </div>
  );
}

/** A form-level error summary. */
export function FormError(props: { message?: string }) {
  return props.message ? (
    <div class="alert alert-error" role="alert">
      {props.message}
    </div>
  ) : null;
}

/** An empty state that says what to do next. */
export function Empty(props: { title: string; children?: Child }) {
  return (
    <div class="empty">
      <strong>{props.title}</strong>
      {props.children}
    </div>
  );
}

/** Page links under a table: "N things · page X of Y" with Previous and Next. */
export function Pager(props: {
  total: number;
  /** The noun for one thing and for several: ["user", "users"]. */
  noun: [one: string, other: string];
  page: number;
  pageSize: number;
  link: (page: number) => string;
}) {
  const pages = Math.max(1, Math.ceil(props.total / props.pageSize));
  return (
    <nav class="pager" aria-label="Pages">
      <span class="muted">
        {plural(props.total, ...props.noun)} · page {props.page} of {pages}
      </span>
      <span class="row">
        {props.page > 1 ? (
          <a class="btn btn-small" href={props.link(props.page - 1)}>
            Previous
          </a>
        ) : null}
        {props.page < pages ? (
          <a class="btn btn-small" href={props.link(props.page + 1)}>
            Next
          </a>
        ) : null}
      </span>
    </nav>
  );
}
