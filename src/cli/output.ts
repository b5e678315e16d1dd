// Output helpers for the CLI: human text on stdout, JSON (bigints as strings) with --json.
export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item), 2)}\n`,
  );
}

export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

/** Fixed-width label column for human summaries. */
export function field(label: string, value: string): string {
  return `  ${label.padEnd(14)} ${value}`;
}
