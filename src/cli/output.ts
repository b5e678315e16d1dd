import type { WitnessError } from '../errors.js';
import { visibleText } from '../visible-text.js';

// Output helpers for the CLI: human text on stdout, JSON (bigints as strings) with --json.
export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item), 2)}\n`,
  );
}

/** Human text: invisible characters (bidi controls, zero-width; src/visible-text.ts) shown as `<U+202E>`. */
export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map((line) => `${visibleText(line)}\n`).join(''));
}

/** The one line the CLI prints on stderr for a WitnessError. */
export function printWitnessError(error: WitnessError): void {
  const failed = error.category === 'verification' || error.category === 'format' ? 'FAILED: ' : '';
  process.stderr.write(`witness: ${failed}${error.message} [${error.code}]\n`);
}

/** Fixed-width label column for human summaries. */
export function field(label: string, value: string): string {
  return `  ${label.padEnd(14)} ${value}`;
}
