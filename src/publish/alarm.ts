// An alarm on the site and in the feed: a record that shows something went wrong (a moved tag, an unequal
// build, a split view), with the records it concerns. Its own module so that the site model and the
// agreement fold (src/publish/agreements.ts) both use it without importing each other.
export type AlarmKind = 'tag-moved' | 'tag-vanished' | 'build-unequal' | 'build-not-reproducible' | 'build-tag-mismatch' | 'roots-disagree' | 'branch-moved' | 'split-view' | 'malformed-record';

export interface Alarm {
  readonly kind: AlarmKind;
  /** The log index of the record that raised it. */
  readonly index: bigint;
  /** Other records it concerns (e.g. the earlier build that differs). */
  readonly related: readonly bigint[];
  readonly title: string;
  readonly detail: string;
  /** The record's own time (first-seen, ingested, time), when it has one. */
  readonly time?: string;
  readonly version?: string;
  readonly target?: string;
}
