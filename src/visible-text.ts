// Text for people: characters a reader cannot see, or that reorder what they see, written as their code
// point (`<U+202E>`), so `go1.21.0<U+202E>lmth.exe` never looks like a release. Used by the site
// (src/publish/html.ts) and the CLI's text output.

/**
 * Every default-ignorable code point (zero-width spaces and joiners, bidi controls such as U+202E
 * RIGHT-TO-LEFT OVERRIDE, variation selectors, tag characters; Unicode's DerivedCoreProperties.txt),
 * controls other than tab and line ends, and the line and paragraph separators.
 */
// eslint-disable-next-line no-control-regex
export const INVISIBLE_CHARACTER = /[\p{Default_Ignorable_Code_Point}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/gu;

/** `<U+202E>` for one such character. */
export function codePointLabel(char: string): string {
  return `<U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/** Text with every invisible character written as its code point label. */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE_CHARACTER, codePointLabel);
}
