// What the records of a log mean is not storage's business: src/log/ stores, commits, verifies and serves
// entries, and knows record types only through a LogSchema. A schema is a list of record folds that the
// domains define (src/tags/view.ts, src/rebuild/builds-view.ts, ...) and one composition module puts
// together (src/witness-schema.ts). Each fold names the record types it reads, checks their invariants
// (throwing VerificationError), and may derive view files: text files next to the tiles, regenerated on
// every append that affects them and checked by `witness verify` against the verified entries.
import type { LogRecord } from './record.js';

export interface IndexedRecord {
  readonly index: bigint;
  readonly record: LogRecord;
}

/** A view file a fold derives: one name, or every name a pattern matches. */
export interface ViewFileSpec {
  readonly name: string | RegExp;
  /** The view exists in every log, even an empty one (it is written by `witness init`). */
  readonly always?: boolean;
  /** The largest file a reader of a log accepts under this name (a hostile log must not exhaust it). */
  readonly maxBytes: number;
}

/** The states of the folds that come earlier in the schema. */
export interface EarlierFolds {
  /** The state `fold` returned; `fold` must come earlier in the schema. */
  stateOf<State>(fold: RecordFold<State>): State;
}

export interface RecordFold<State = unknown> {
  /** Names the fold in programming errors. */
  readonly name: string;
  /** The record types this fold reads: it is given the records of these types only, in log order. */
  readonly recordTypes: readonly string[];
  /** The view files it derives (none for a fold that only checks invariants). */
  readonly viewFiles?: readonly ViewFileSpec[];
  /** Folds the records; throws VerificationError when they break an invariant. */
  fold(records: readonly IndexedRecord[], earlier: EarlierFolds): State;
  /** The views of the folded state: relative path -> content. */
  views?(state: State): Iterable<readonly [string, string]>;
}

export class LogSchema {
  /** Record types that views and invariants are derived from; only these need to be kept to derive them. */
  readonly recordTypes: ReadonlySet<string>;
  /** Views every log has (others exist once their records do). */
  readonly requiredViewFiles: readonly string[];
  private readonly files: readonly ViewFileSpec[];
  private readonly byType = new Map<string, number[]>();

  constructor(readonly folds: ReadonlyArray<RecordFold<any>>) {
    const names = new Set<string>();
    folds.forEach((fold, i) => {
      if (names.has(fold.name)) throw new Error(`log schema: two folds named ${fold.name}`);
      names.add(fold.name);
      for (const type of fold.recordTypes) this.byType.set(type, [...(this.byType.get(type) ?? []), i]);
    });
    this.recordTypes = new Set(this.byType.keys());
    this.files = folds.flatMap((fold) => fold.viewFiles ?? []);
    this.requiredViewFiles = this.files.flatMap((spec) => (spec.always && typeof spec.name === 'string' ? [spec.name] : []));
  }

  private viewFile(file: string): ViewFileSpec | undefined {
    return this.files.find((spec) => (typeof spec.name === 'string' ? spec.name === file : spec.name.test(file)));
  }

  /** Whether `file` (relative to the log folder) is a derived view. */
  isViewFile(file: string): boolean {
    return this.viewFile(file) !== undefined;
  }

  /** The largest view file `file` a reader accepts, or undefined if it is not a view. */
  maxViewBytes(file: string): number | undefined {
    return this.viewFile(file)?.maxBytes;
  }

  /**
   * Every view's content from the log's records (given with their log indexes, in log order; records of
   * other types may be given or omitted). Throws VerificationError when records break their invariants;
   * the folds run in the schema's order, so the first broken invariant is always the same one.
   */
  deriveViews(records: Iterable<IndexedRecord>): Map<string, string> {
    const given: IndexedRecord[][] = this.folds.map(() => []);
    for (const entry of records) {
      for (const i of this.byType.get(entry.record.type) ?? []) given[i]!.push(entry);
    }
    const states = new Map<RecordFold<any>, unknown>();
    const earlier: EarlierFolds = {
      stateOf: <State>(fold: RecordFold<State>): State => {
        if (!states.has(fold)) throw new Error(`log schema: ${fold.name} is not a fold earlier in the schema`);
        return states.get(fold) as State;
      },
    };
    const views = new Map<string, string>();
    this.folds.forEach((fold, i) => {
      const state = fold.fold(given[i]!, earlier);
      states.set(fold, state);
      for (const [file, content] of fold.views?.(state) ?? []) {
        if (!this.isViewFile(file)) throw new Error(`log schema: ${fold.name} derives ${file}, which it does not declare`);
        views.set(file, content);
      }
    });
    return views;
  }
}

let installed: LogSchema | undefined;

/**
 * Makes `schema` the one src/log/ uses to derive and check views. The library and the CLI install the
 * witness's schema when they are loaded (src/witness-schema.ts); so must anything that opens a log
 * through src/log/ directly.
 */
export function installLogSchema(schema: LogSchema): void {
  installed = schema;
}

/** The installed schema; a missing one is a programming error (never silently "no views"). */
export function logSchema(): LogSchema {
  if (!installed) throw new Error('no log schema is installed: import src/witness-schema.ts before opening a log');
  return installed;
}
