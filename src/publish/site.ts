// `witness publish`: a static site for a witness log (README.md "Publishing the log"). The site root IS the log
// (checkpoint, log.vkey and tiles copied byte for byte, views derived from the entries), so `witness verify --log <site URL>` and
// `witness compare --log <site URL>` work against it; next to the log it holds pages for people
// (index.html, releases/<version>.html, tags.html, cosigned.html, verify.html), feed.atom and api/*.json.
//
// Nothing is published unless it verifies: the log folder is verified (tiles, signatures, views and the
// git history of its checkpoints), copied (views are derived again from the verified entries, never
// copied), and the copy is verified again; the pages are rendered from the copy's verified entries. The output is deterministic (the current time appears only when `now` is
// passed) and written into a temporary folder next to --out that replaces --out in one rename.
import { writeVerifyPage } from './verify-page.js';
import { publishGitHistory } from './git-objects.js';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, UsageError, VerificationError } from '../errors.js';
import { TEMP_PREFIX } from '../infra/files.js';
import { gitText, locateGit, readObjects, repositoryPath } from '../infra/git.js';
import { CHECKPOINT_FILE, VERIFIER_KEY_FILE, logFile } from '../log/layout.js';
import { listLogFiles, tryParseTilePath } from '../log/layout.js';
import { LogReader } from '../log/reader.js';
import { folderSource } from '../log/source.js';
import { type VerifyReport, verifyLog, verifyLogFolder } from '../log/verify.js';
import type { OnProgress } from '../progress.js';
import { VIEW_RECORD_TYPES, deriveViews, isViewFile } from '../log/views.js';
import { TAGS_FILE } from '../tags/view.js';
import { encodeBase64 } from '../tlog/encoding.js';
import { TILE_WIDTH, tileCounts } from '../tlog/tile.js';
import { formatTime } from '../infra/time.js';
import { apiFiles } from './api.js';
import { jsonForHtml } from './html.js';
import { renderFeed } from './feed.js';
import { type Alarm, buildSiteModel } from './model.js';
import { type SiteContext, renderCosigned, renderIndex, renderRelease, renderTags } from './render.js';
import { buildToolchainsModel, renderToolchains, toolchainFeedEntries, toolchainsApi } from './toolchains.js';
import { type LogRecord, parseRecord } from '../log/record.js';

/** A file in every generated site: --out may be replaced only when it holds this (or is empty). */
export const SITE_MARKER_FILE = '.go-source-witness-site';
/** Build logs a build record names: `build-logs/<sha256>.log`, content-addressed. */
const BUILD_LOG = /^build-logs\/([0-9a-f]{64})\.log$/;
/** Views that may exist beside tags.txt and cosigned/ (builds.txt once build records have a view). */
const EXTRA_VIEW_FILES = new Set(['builds.txt', 'toolchains.txt']);

export interface PublishOptions {
  /** The log folder (a git work tree folder, as written by `witness init`). */
  readonly logDir: string;
  /** Where the site goes: created, or replaced if it is a previous site (or empty). */
  readonly outDir: string;
  /** Pinned verifier key; default: the folder's own log.vkey (not pinned). */
  readonly verifierKey?: string;
  /** A time to show as "generated"; default none, so the same log always gives the same bytes. */
  readonly now?: Date;
  /** Told of verification and copying progress (src/progress.ts). */
  readonly onProgress?: OnProgress;
}

export interface PublishResult {
  readonly outDir: string;
  readonly origin: string;
  readonly size: bigint;
  readonly rootHash: string;
  readonly verifierKey: string;
  readonly verifierKeyPinned: boolean;
  /** When the checkpoint was made: its git commit time, else the newest record time. */
  readonly checkpointTime?: string;
  /** Files written, relative to outDir, sorted. */
  readonly files: readonly string[];
  readonly releases: number;
  readonly alarms: readonly Alarm[];
  /** Whether verify.html was written (src/publish/verify-page.ts present). */
  readonly verifyPage: boolean;
  /** Harmless oddities from verification and copying. */
  readonly warnings: readonly string[];
}

/** Verifies the log, then writes its site to `outDir` (atomically replacing a previous site). */
export async function publishSite(options: PublishOptions): Promise<PublishResult> {
  const logDir = path.resolve(options.logDir);
  const outDir = path.resolve(options.outDir);
  await checkOutDir(logDir, outDir);

  const report = await verifyLogFolder(logDir, { ...(options.verifierKey !== undefined ? { verifierKey: options.verifierKey } : {}), history: true, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  const parent = path.dirname(outDir);
  await mkdir(parent, { recursive: true });
  const temp = await mkdtemp(path.join(parent, `${TEMP_PREFIX}site-`));
  try {
    await chmod(temp, 0o755);
    const result = await writeSite(logDir, temp, report, options);
    await checkOutDir(logDir, outDir); // again: it may have changed while we worked
    await replaceDir(temp, outDir);
    return { ...result, outDir };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Refuses an --out that is the log, inside it, holds it, or is a non-empty folder that is not a site. */
async function checkOutDir(logDir: string, outDir: string): Promise<void> {
  const inside = (child: string, parent: string) => {
    const relative = path.relative(parent, child);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  };
  if (inside(outDir, logDir)) throw new UsageError('OUT_IN_LOG', `--out ${outDir} is inside the log folder ${logDir}; write the site elsewhere`);
  if (inside(logDir, outDir)) throw new UsageError('OUT_IN_LOG', `--out ${outDir} holds the log folder ${logDir}; write the site elsewhere`);
  const info = await stat(outDir).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new UsageError('OUT_NOT_SITE', `--out ${outDir} exists and is not a folder`);
  const names = await readdir(outDir);
  if (names.length > 0 && !names.includes(SITE_MARKER_FILE)) {
    throw new UsageError('OUT_NOT_SITE', `--out ${outDir} is not empty and is not a site written by witness publish (no ${SITE_MARKER_FILE}); refusing to replace it`);
  }
}

/** Puts `temp` in place of `outDir`: one rename when there is nothing there; else old aside, new in, old removed. */
async function replaceDir(temp: string, outDir: string): Promise<void> {
  const existing = await stat(outDir).catch(() => undefined);
  if (!existing) {
    await rename(temp, outDir);
    return;
  }
  const old = path.join(path.dirname(outDir), `${TEMP_PREFIX}site-old-${randomBytes(6).toString('hex')}`);
  await rename(outDir, old);
  try {
    await rename(temp, outDir);
  } catch (error) {
    await rename(old, outDir).catch(() => undefined);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}

async function writeSite(logDir: string, siteDir: string, report: VerifyReport, options: PublishOptions): Promise<Omit<PublishResult, 'outDir'>> {
  const warnings = [...report.warnings];
  const written: string[] = [];
  const write = async (relative: string, content: string | Uint8Array) => {
    const file = logFile(siteDir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, { flag: 'wx' });
    written.push(relative);
  };

  // 1. The log, byte for byte: checkpoint first (an append writes tiles before its checkpoint, so the
  // tiles of the checkpoint we copied are there), then tiles, views and build logs.
  // Read like every log file: never through a symbolic link, only regular files, bounded (src/log/source.ts).
  const source = folderSource(logDir);
  const readLogFile = async (relative: string): Promise<Uint8Array> => {
    const bytes = await source.read(relative);
    if (!bytes) throw new EnvironmentError('LOG_CHANGED', `${relative} vanished from ${logDir} while it was being published; run witness publish again`);
    return bytes;
  };
  const checkpointBytes = await readLogFile(CHECKPOINT_FILE);
  const buildLogs = new Set<string>();
  const copy = async (relative: string) => write(relative, await readLogFile(relative));
  await write(CHECKPOINT_FILE, checkpointBytes);
  const files = await listLogFiles(logDir);
  const say = options.onProgress ?? (() => {});
  let seen = 0;
  for (const file of files) {
    say({ phase: 'copying the log', done: seen++, total: files.length, unit: 'files' });
    if (file === CHECKPOINT_FILE) continue;
    // The views are derived again from the verified entries below, never copied.
    if (file === TAGS_FILE || isViewFile(file) || EXTRA_VIEW_FILES.has(file)) continue;
    if (file === VERIFIER_KEY_FILE) {
      await copy(file);
      continue;
    }
    const tile = tryParseTilePath(file);
    if (tile) {
      // Current tiles and older partial ones (clients holding an older checkpoint read those); never
      // tiles beyond the checkpoint (left by an interrupted append).
      const { fullCount, partialWidth } = tileCounts(report.size, tile.level === 'entries' ? 0 : tile.level);
      const currentWidth = tile.index < fullCount ? TILE_WIDTH : tile.index === fullCount ? partialWidth : 0;
      if (tile.width <= currentWidth) await copy(file);
      continue;
    }
    const buildLog = BUILD_LOG.exec(file);
    if (buildLog) {
      const content = await readLogFile(file);
      if (createHash('sha256').update(content).digest('hex') !== buildLog[1]) {
        warnings.push(`${file}: content does not hash to its name; not published`);
        continue;
      }
      await write(file, content);
      buildLogs.add(buildLog[1]!);
    }
  }

  // 2. The views, derived from the copy's entries verified against its signed root (as an append writes
  // them): a view in the log folder is never copied, so the site says what the entries say.
  const pinned = report.verifierKey;
  {
    const copiedLog = await LogReader.open(siteDir, { verifierKey: pinned });
    const verified = await copiedLog.readVerifiedEntries();
    if (encodeBase64(verified.checkpoint.checkpoint.rootHash) !== report.rootHash) {
      throw new EnvironmentError('LOG_CHANGED', 'the log changed while it was being published; run witness publish again');
    }
    const viewRecords = verified.entries.flatMap((entry, i) => {
      const record = parseRecord(entry);
      return VIEW_RECORD_TYPES.has(record.type) ? [{ index: BigInt(i), record }] : [];
    });
    for (const [file, content] of deriveViews(viewRecords)) await write(file, content);
  }

  // 3. The copy must verify on its own and be the very state verified above (not a later append).
  const copied = await verifyLog(siteDir, { verifierKey: pinned, history: false, onProgress: (event) => say({ ...event, phase: `${event.phase} of the copy` }) });
  if (copied.size !== report.size || copied.rootHash !== report.rootHash) {
    throw new EnvironmentError(
      'LOG_CHANGED',
      `the log changed while it was being published (size ${report.size} -> ${copied.size}); run witness publish again`,
    );
  }
  const reader = await LogReader.open(siteDir, { verifierKey: pinned });
  const { checkpoint, entries } = await reader.readVerifiedEntries();
  const rootHash = encodeBase64(checkpoint.checkpoint.rootHash);
  if (rootHash !== report.rootHash) throw new VerificationError('ROOT_MISMATCH', 'the copied log does not have the verified root');

  const history = await publishGitHistory(logDir, siteDir, write, { verifierKey: pinned, origin: reader.origin }); // git/ for verify.html
  if (history.warning) warnings.push(history.warning);
  // 4. The pages, feed and API, from the copy's verified entries.
  const model = buildSiteModel(reader.origin, entries);
  const committed = await checkpointCommitTime(logDir, checkpointBytes);
  const time = committed?.time ?? model.newestRecordTime;
  const timeSource = committed ? `commit ${committed.commit.slice(0, 12)}` : model.newestRecordTime ? 'newest record' : undefined;
  const verifyPage = await writeVerifyPageIfAvailable(siteDir, reader.origin, pinned);
  const ctx: SiteContext = {
    model,
    verifierKey: pinned,
    checkpoint: { size: checkpoint.checkpoint.size, rootHash, ...(time ? { time } : {}), ...(timeSource ? { timeSource } : {}) },
    buildLogs,
    ...(options.now ? { generated: formatTime(options.now) } : {}),
    verifyPage,
  };
  await write('index.html', renderIndex(ctx));
  await write('tags.html', renderTags(ctx));
  await write('cosigned.html', renderCosigned(ctx));
  const toolchains = buildToolchainsModel(model, parsedRecords(entries));
  await write('toolchains.html', renderToolchains(ctx, toolchains));
  for (const row of model.releases) await write(`releases/${row.version}.html`, renderRelease(ctx, row));
  await write('feed.atom', renderFeed(model, { updated: time ?? '1970-01-01T00:00:00Z', checkpointSize: checkpoint.checkpoint.size, extra: toolchainFeedEntries(reader.origin, toolchains) }));
  for (const [file, value] of apiFiles(ctx)) await write(file, `${jsonText(value)}\n`);
  await write('api/toolchains.json', `${jsonText(toolchainsApi(ctx, toolchains))}\n`);
  await write('.nojekyll', '');
  await write(SITE_MARKER_FILE, `go-source-witness site\norigin ${reader.origin}\nsize ${checkpoint.checkpoint.size}\nroot ${rootHash}\n`);
  const all = (await listLogFiles(siteDir, true)).sort();
  return {
    origin: reader.origin,
    size: checkpoint.checkpoint.size,
    rootHash,
    verifierKey: pinned,
    verifierKeyPinned: report.verifierKeyPinned,
    ...(time ? { checkpointTime: time } : {}),
    files: all,
    releases: model.releases.length,
    alarms: model.alarms,
    verifyPage,
    warnings,
  };
}

/**
 * When the published checkpoint was committed: the committer time of the last commit that changed the
 * log's checkpoint file, if that commit holds exactly these bytes. Undefined outside git or when the
 * checkpoint on disk is not committed.
 */
async function checkpointCommitTime(logDir: string, checkpoint: Uint8Array): Promise<{ commit: string; time: string } | undefined> {
  try {
    const location = await locateGit(logDir);
    if (!location) return undefined;
    const file = repositoryPath(location, CHECKPOINT_FILE);
    const line = (await gitText(['log', '-1', '--format=%H %cI', '--', file], { cwd: location.topLevel })).trim();
    const [commit, when] = line.split(' ');
    if (!commit || !when) return undefined;
    const [blob] = await readObjects(location.topLevel, [`${commit}:${file}`]);
    if (!blob || !blob.equals(Buffer.from(checkpoint))) return undefined;
    return { commit, time: formatTime(new Date(when)) };
  } catch {
    return undefined;
  }
}

/** The entries that parse as records, with their log indexes (the model reports the others as alarms). */
function parsedRecords(entries: readonly Uint8Array[]): Array<{ index: bigint; record: LogRecord }> {
  const out: Array<{ index: bigint; record: LogRecord }> = [];
  entries.forEach((entry, i) => {
    try {
      out.push({ index: BigInt(i), record: parseRecord(entry) });
    } catch {
      /* not a record: the site model shows it as a malformed-record alarm */
    }
  });
  return out;
}

/** The JSON files of the site (api/…): html.ts jsonForHtml, indented. */
function jsonText(value: unknown): string {
  return jsonForHtml(value, 2);
}

/** verify.html and its script (src/publish/verify-page.ts). */
async function writeVerifyPageIfAvailable(siteDir: string, origin: string, verifierKey: string): Promise<boolean> {
  await writeVerifyPage(siteDir, { origin, verifierKey });
  return true;
}
