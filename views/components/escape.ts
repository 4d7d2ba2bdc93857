import { escapeToBuffer } from "hono/utils/html";

/**
 * Escape text for HTML exactly as hono/jsx does, for markup built as strings where many items share one shape
 * (poster cards, download cards, request rows): the bytes stay those their JSX wrote (docs/performance.md).
 */
export function esc(text: string): string {
  const buffer: [string] = [""];
  escapeToBuffer(text, buffer);
  return buffer[0];
}
