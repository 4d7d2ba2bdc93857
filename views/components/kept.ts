// Markup rendered once and kept as the escaped string JSX takes as a child. hono/jsx renders every element on every
// request at a cost per element and attribute, which on the signed-in dashboard was the largest part of the page's
// time (docs/performance.md, "Measured decisions").
import { raw } from "hono/html";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { HtmlEscapedString } from "hono/utils/html";

// Rendered markup is a string built by concatenation, which the runtime keeps as a tree of its pieces (a rope): every
// page that included it would walk those pieces again to flatten itself. Kept markup is copied into one flat string.
const UTF8 = new TextEncoder();
const FROM_UTF8 = new TextDecoder();

function toHtml(element: JSX.Element): HtmlEscapedString {
  const html = element.toString();
  if (typeof html !== "string") throw new Error("kept markup cannot come from an async component");
  return raw(FROM_UTF8.decode(UTF8.encode(html)));
}

/** Markup that never changes, rendered on first use. */
export function once(render: () => JSX.Element): () => HtmlEscapedString {
  let html: HtmlEscapedString | undefined;
  return () => (html ??= toHtml(render()));
}

/**
 * Markup that depends only on a few values (a state without data, a flag), rendered once for each key that names
 * them. Keys come from a small fixed set, never from data.
 */
export function oncePerKey(): (key: string, render: () => JSX.Element) => HtmlEscapedString {
  const kept = new Map<string, HtmlEscapedString>();
  return (key, render) => {
    let html = kept.get(key);
    if (html === undefined) kept.set(key, (html = toHtml(render())));
    return html;
  };
}

/** Markup made from one object that stays the same for a while (a kept overview), rendered once for each key. */
export function oncePerObject<O extends object>(): (
  of: O,
  key: string,
  render: () => JSX.Element,
) => HtmlEscapedString {
  const kept = new WeakMap<O, Map<string, HtmlEscapedString>>();
  return (of, key, render) => {
    let byKey = kept.get(of);
    if (!byKey) kept.set(of, (byKey = new Map()));
    let html = byKey.get(key);
    if (html === undefined) byKey.set(key, (html = toHtml(render())));
    return html;
  };
}
