// Timestamps as records, state files and pages write them: RFC 3339 (https://www.rfc-editor.org/rfc/rfc3339#section-5.6),
// UTC, whole seconds.

/** `2024-10-01T17:02:03Z`: RFC 3339, UTC, whole seconds. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.[0-9]{3}Z$/, 'Z');
}
