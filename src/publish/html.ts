// HTML for the published site, escaped by construction. Everything shown on the site comes from log
// records (tag names, repository URLs, verdict details, sumdb origins) that an attacker can influence, so
// nothing is ever concatenated into markup: the `html` tagged template escapes every interpolated value
// unless it is itself markup made by `html`, and URLs are built only from validated names with each
// path segment percent-encoded (`href`).

import { INVISIBLE_CHARACTER, codePointLabel, visibleText } from '../visible-text.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML element content and for (quoted) attribute values alike, and for XML text;
 * invisible characters become their visible code point label (`&lt;U+202E&gt;`).
 */
export function escapeHtml(text: string): string {
  return visibleText(text).replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/**
 * JSON that is safe inside HTML and for people: `<`, `>` and `&` as \u escapes (as Go's encoding/json
 * writes them), so it can sit in a <script> data block (no `</script>`, no `<!--`) or be served as HTML
 * harmlessly; and invisible characters (bidi controls, zero-width, line separators: INVISIBLE_CHARACTER)
 * as \u escapes, the same value for a parser, visible to a person reading the file. `indent` as
 * JSON.stringify's.
 */
export function jsonForHtml(value: unknown, indent?: number): string {
  const escape = (char: string) =>
    char
      .split('')
      .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join('');
  return JSON.stringify(value, null, indent).replace(/[<>&]/g, escape).replace(INVISIBLE_CHARACTER, escape);
}

/** Escapes text for element content: as escapeHtml, each invisible character's label in a marked span. */
function escapeHtmlContent(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(INVISIBLE_CHARACTER)) {
    out += escapeHtml(text.slice(last, match.index));
    out += `<span class="invisible" title="an invisible character, shown as its code point">${escapeHtml(codePointLabel(match[0]))}</span>`;
    last = match.index + match[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

/** Markup that is already safe: made by `html`, or a constant of this module. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/** What may be interpolated: text (escaped), numbers, markup, lists of those; undefined/false/null render nothing. */
export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

/** Renders a value; `inTag` (an attribute value) writes invisible characters' labels without the span. */
function render(value: HtmlValue, inTag = false): string {
  if (value instanceof SafeHtml) return value.markup;
  if (value === undefined || value === null || value === false || value === true) return '';
  if (Array.isArray(value)) return value.map((item) => render(item, inTag)).join('');
  return inTag ? escapeHtml(String(value)) : escapeHtmlContent(String(value));
}

/** The tagged template: `html\`<td>${name}</td>\`` escapes `name`; nested `html` results pass through. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    // Inside a tag (an attribute value) when the markup so far opened a tag it has not closed.
    out += render(value, out.lastIndexOf('<') > out.lastIndexOf('>')) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Joins pieces of markup (or escaped text) with a separator (escaped if text), for element content. */
export function join(items: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  return new SafeHtml(items.map((item) => render(item)).join(render(separator)));
}

/**
 * A relative URL from path segments, each percent-encoded (so `/`, `?`, `#`, `"`, `<` in a name can never
 * change the URL's structure); `..` for going up is passed as the literal segment '..'. An optional
 * fragment is encoded too.
 */
export function href(segments: readonly string[], fragment?: string): string {
  const path = segments.map((segment) => (segment === '..' ? '..' : encodeURIComponent(segment))).join('/');
  return fragment === undefined ? path : `${path}#${encodeURIComponent(fragment)}`;
}
