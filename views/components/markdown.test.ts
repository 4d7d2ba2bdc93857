import { expect, test } from "bun:test";
import { renderMarkdown } from "./markdown";

test("Markdown renders: emphasis, lists, line breaks, http(s) links opened apart", () => {
  expect(renderMarkdown("**Disk** nearly full\nsee [the NAS](https://nas.example.com/status)")).toBe(
    '<p><strong>Disk</strong> nearly full<br>\nsee <a href="https://nas.example.com/status" target="_blank" rel="noopener noreferrer">the NAS</a></p>\n',
  );
  expect(renderMarkdown("- one\n- two")).toBe("<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n");
  expect(renderMarkdown("http://status.example.com")).toContain(
    '<a href="http://status.example.com" target="_blank" rel="noopener noreferrer">',
  );
});

test.each([
  ["a javascript: link", "[click](javascript:alert(1))"],
  ["a javascript: link, mixed case and spaced", "[click](  JaVaScRiPt:alert(1))"],
  ["a data: link", "[click](data:text/html;base64,PHNjcmlwdD4=)"],
  ["a vbscript: link", "[click](vbscript:msgbox(1))"],
  ["an autolink to javascript:", "<javascript:alert(1)>"],
  ["raw <script>", "<script>alert(1)</script>"],
  ["a raw <img> with onerror", '<img src="x" onerror="alert(1)">'],
  ["a Markdown image with onerror in its title", '![x](https://example.com/a.png "x\\" onerror=\\"alert(1)")'],
  ["an inline handler in a link", '[x](https://example.com" onmouseover="alert(1))'],
  ["a raw <a> with javascript:", '<a href="javascript:alert(1)">x</a>'],
  ["a table (its alignment would be an inline style)", "| a | b |\n|:-|-:|\n| 1 | 2 |"],
  ["an HTML comment and iframe", "<!-- x --><iframe src=https://example.com></iframe>"],
])("hostile input: %s gives no script, handler, style, image or non-http(s) link", (_, input) => {
  const html = renderMarkdown(input);
  expect(html).not.toMatch(/<script|<img|<iframe|<a href="(?!https?:)|\son\w+="|style=|<!--/i);
  for (const href of html.matchAll(/href="([^"]*)"/g)) expect(href[1]).toMatch(/^https?:\/\//);
});
