import { raw } from "hono/html";
import MarkdownIt from "markdown-it";

// Uptime Kuma writes incident and maintenance texts in Markdown and renders them itself; we do it the same way, but
// raw HTML is off (escaped as text), images and tables are off (remote images and table alignment's inline styles
// would break the strict CSP), and only http(s) links are kept.
const md = new MarkdownIt({ html: false, linkify: true, breaks: true });
md.disable(["image", "table"]);
md.validateLink = (url) => /^https?:\/\//i.test(url.trim());

const defaultLinkOpen = md.renderer.rules.link_open;
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  token.attrSet("target", "_blank");
  token.attrSet("rel", "noopener noreferrer");
  return defaultLinkOpen ? defaultLinkOpen(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
};

/** Render Markdown from an outside service as safe HTML: no raw HTML, no images, links only http(s), opened apart. */
export function renderMarkdown(text: string): string {
  return md.render(text);
}

/** A block of Markdown from an outside service (see renderMarkdown). */
export function Markdown(props: { text: string; class?: string }) {
  return <div class={props.class ?? "markdown"}>{raw(renderMarkdown(props.text))}</div>;
}
