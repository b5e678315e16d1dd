// Progress of long work (verifying a log, hashing, fetching tiles, appending), reported through an
// optional callback so the library stays silent and the caller decides how to show it (the CLI:
// src/cli/progress.ts). A new `phase` starts a phase; `done`/`total` count within it; `retry` reports a
// retried request with its reason and the wait before the next attempt.
export interface ProgressEvent {
  /** What is being done, e.g. "verifying entries". */
  readonly phase: string;
  readonly done?: number;
  readonly total?: number;
  /** What done/total count: "entries", "tiles", "bytes", "files", "commits". */
  readonly unit?: string;
  readonly retry?: { readonly reason: string; readonly waitMs: number; readonly attempt: number };
}

export type OnProgress = (event: ProgressEvent) => void;
