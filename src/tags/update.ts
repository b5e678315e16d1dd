// `witness tags`: compare a repository's tags with the witness's tag state and append a record for each
// new, moved, vanished or reappeared tag. Unchanged tags append nothing.
import { EnvironmentError, UsageError } from '../errors.js';
import { printableRef } from '../gitsrc/refname.js';
import { recordValueProblem } from '../log/record.js';
import { compareRefs } from '../gitsrc/show-ref.js';
import { type RejectedRef, type RepoTag, readRepoTags, repositoryRemoteUrl } from '../gitsrc/tags.js';
import type { WitnessLog } from '../log/log.js';
import { parseRecord } from '../log/record.js';
import type { OnProgress } from '../progress.js';
import type { SignerKey } from '../tlog/note.js';
import { formatTime } from '../infra/time.js';
import { type TagPointer, type TagRecord, tagRecordToLogRecord } from './record.js';
import { type TagState, tagStateFromRecords } from './state.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TagChange {
  readonly ref: string;
  readonly event: TagRecord['event'];
  /** The witness's previous pointer (moved, vanished). */
  readonly before?: TagPointer;
  readonly beforeFirstSeen?: string;
  /** The repository's pointer now (new, moved, reappeared). */
  readonly after?: TagPointer;
}

export interface TagPlan {
  readonly records: TagRecord[];
  readonly changes: TagChange[];
  readonly unchanged: number;
}

function pointerOf(tag: RepoTag): TagPointer {
  return {
    object: tag.object,
    objectType: tag.objectType,
    target: tag.target,
    targetType: tag.targetType,
    ...(tag.tree ? { tree: tag.tree } : {}),
  };
}

/** What to append so the log's tag state becomes the repository's tags. Records come in ref order. */
export function planTagUpdate(state: TagState, repoTags: readonly RepoTag[], repository: string, now: Date): TagPlan {
  const firstSeen = formatTime(now);
  const records: TagRecord[] = [];
  const changes: TagChange[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const tag of [...repoTags].sort((a, b) => compareRefs(a.ref, b.ref))) {
    seen.add(tag.ref);
    const pointer = pointerOf(tag);
    const present = state.present.get(tag.ref);
    const latest = state.latest.get(tag.ref);
    if (present) {
      if (present.pointer.object === pointer.object) {
        unchanged++;
        continue;
      }
      records.push({ event: 'moved', ref: tag.ref, pointer, previous: present.index, repository, firstSeen });
      changes.push({ ref: tag.ref, event: 'moved', before: present.pointer, beforeFirstSeen: present.record.firstSeen, after: pointer });
    } else if (latest) {
      records.push({ event: 'reappeared', ref: tag.ref, pointer, previous: latest.index, repository, firstSeen });
      changes.push({ ref: tag.ref, event: 'reappeared', after: pointer });
    } else {
      records.push({ event: 'new', ref: tag.ref, pointer, repository, firstSeen });
      changes.push({ ref: tag.ref, event: 'new', after: pointer });
    }
  }
  for (const [ref, present] of state.present) {
    if (seen.has(ref)) continue;
    records.push({ event: 'vanished', ref, previous: present.index, repository, firstSeen });
    changes.push({ ref, event: 'vanished', before: present.pointer, beforeFirstSeen: present.record.firstSeen });
  }
  records.sort((a, b) => compareRefs(a.ref, b.ref));
  changes.sort((a, b) => compareRefs(a.ref, b.ref));
  return { records, changes, unchanged };
}

export interface RecordTagsOptions {
  /** The repository URL to record; default: its remote.origin.url, else a file:// URL of the folder. */
  readonly repositoryUrl?: string;
  readonly now?: Date;
  /** Compute and report, append nothing (no key needed). */
  readonly dryRun?: boolean;
  readonly onProgress?: OnProgress;
}

export interface RecordTagsResult {
  readonly repository: string;
  readonly tagsRead: number;
  readonly rejected: RejectedRef[];
  readonly plan: TagPlan;
  /** Moved, vanished or reappeared tags: what an operator's cron should be woken for. */
  readonly alarms: TagChange[];
  readonly appended?: { oldSize: bigint; newSize: bigint; commit: string };
  readonly logSize: bigint;
}

/**
 * A repository URL without credentials, by string rules that need no WHATWG parse (which fails on, e.g.,
 * a port above 65535 and would leave the URL as written):
 * - `scheme://authority/path`: the authority ends at the first "/", "?", "#" or "\\" (RFC 3986 §3.2;
 *   WHATWG also ends it at "\\"); everything up to its last "@" (the userinfo) is removed, and so are the
 *   query and the fragment (tokens such as `?access_token=` live there);
 * - scp-like `[user@]host:path` (git's form when a ":" comes before any "/"): everything up to the last
 *   "@" before the first "/" is removed;
 * - anything else (a local path) is kept.
 */
export function redactRepositoryUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (scheme) {
    const rest = url.slice(scheme[0].length);
    const authorityEnd = rest.search(/[/?#\\]/);
    const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
    const after = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
    const queryOrFragment = after.search(/[?#]/);
    return `${scheme[0]}${authority.slice(authority.lastIndexOf('@') + 1)}${queryOrFragment < 0 ? after : after.slice(0, queryOrFragment)}`;
  }
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  if (colon > 0 && (slash < 0 || colon < slash)) {
    const head = slash < 0 ? url : url.slice(0, slash);
    return url.slice(head.lastIndexOf('@') + 1);
  }
  return url;
}

/**
 * The repository URL as recorded: a URL without spaces or control characters, with any user name or
 * password, query and fragment removed (a token in remote.origin.url must never be signed into a public
 * log). A URL with an "@" left, or whose host is not host[:port], may hide a password in a form these
 * rules miss: refused.
 * Errors show the URL only with its credentials removed.
 */
export function repositoryUrlToRecord(url: string): string {
  const redacted = redactRepositoryUrl(url);
  const shown = JSON.stringify(redacted.slice(0, 200));
  const problem = recordValueProblem(url);
  if (problem || /\s/.test(url)) {
    throw new UsageError('BAD_REPOSITORY_URL', `repository URL ${shown} ${problem ?? 'contains white space'}; pass --remote URL`);
  }
  // Refuse rather than guess where a parser might see a password that these rules do not: an "@" left
  // anywhere, or an authority that is not host[:port] (e.g. "user:pa#ss@host" ends it at the "#").
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#\\]*)/.exec(redacted)?.[1];
  if (redacted.includes('@') || (authority !== undefined && !/^(?:\[[0-9A-Fa-f:.]*\]|[A-Za-z0-9._~%!$&'()*+,;=-]*)(?::[0-9]*)?$/.test(authority))) {
    throw new UsageError(
      'BAD_REPOSITORY_URL',
      'the repository URL has an "@" or a host that is not host[:port], where a password may hide (not shown); pass --remote with a plain URL',
    );
  }
  return redacted;
}

/** Reads the repository's tags and appends what changed, in one signed append. */
export async function recordRepoTags(
  log: WitnessLog,
  repositoryDir: string,
  signerKey: SignerKey | undefined,
  options: RecordTagsOptions = {},
): Promise<RecordTagsResult> {
  const say = options.onProgress ?? (() => {});
  // The plan is made from verified entries only: every entry is checked against the signed root.
  say({ phase: 'verifying log entries' });
  const { checkpoint, entries } = await log.readVerifiedEntries();
  say({ phase: 'verifying log entries', done: entries.length, unit: 'entries' });
  const state = tagStateFromRecords(entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) })));
  say({ phase: 'reading repository tags' });
  const { tags, rejected } = await readRepoTags(repositoryDir);
  say({ phase: 'reading repository tags', done: tags.length, unit: 'tags' });
  // A recorded tag that is still there but cannot be read now must not be recorded as vanished.
  const unreadable = rejected.filter((tag) => state.present.has(tag.ref));
  if (unreadable.length > 0) {
    throw new EnvironmentError(
      'TAG_UNREADABLE',
      `${unreadable.map((tag) => `${printableRef(tag.ref)} (${tag.reason})`).join(', ')}: recorded in the log but unreadable in ${repositoryDir}; refusing to record ${unreadable.length === 1 ? 'it' : 'them'} as vanished (repair the repository and run again)`,
    );
  }
  const repository = repositoryUrlToRecord(
    options.repositoryUrl ?? (await repositoryRemoteUrl(repositoryDir)) ?? pathToFileURL(path.resolve(repositoryDir)).href,
  );
  const plan = planTagUpdate(state, tags, repository, options.now ?? new Date());
  const alarms = plan.changes.filter((change) => change.event !== 'new');
  const result = { repository, tagsRead: tags.length, rejected, plan, alarms, logSize: checkpoint.checkpoint.size };
  if (options.dryRun || plan.records.length === 0) return result;
  if (!signerKey) throw new EnvironmentError('KEY_REQUIRED', 'a signing key is needed to append tag records');
  const counts = new Map<string, number>();
  for (const change of plan.changes) counts.set(change.event, (counts.get(change.event) ?? 0) + 1);
  const summary = `record tags: ${[...counts].map(([event, count]) => `${count} ${event}`).join(', ')}`;
  say({ phase: 'appending tag records', total: plan.records.length, unit: 'records' });
  const appended = await log.append(plan.records.map(tagRecordToLogRecord), signerKey, {
    summary,
    expectedSize: checkpoint.checkpoint.size,
  });
  say({ phase: 'appending tag records', done: plan.records.length, unit: 'records' });
  return { ...result, appended, logSize: appended.newSize };
}
