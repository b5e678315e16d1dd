// `witness sumdb scan`: read the checksum database's data tiles from the durable scan position up to a
// verified signed tree head, record every golang.org/toolchain record in the witness log once (a signed
// toolchain record), and raise alarms (signed toolchain-alarm records) for what no git tag explains:
//
// - toolchain-without-source: a toolchain whose Go version has no present tag in the log;
// - duplicate-module-version: a second record for a module version (any module; sumdb's own promise);
// - tag-without-toolchain: a tag of a distpack release first seen more than N days ago with no
//   toolchain record, checked once the scan has reached the head.
// (build-disagrees is raised by ingest: see ingest-hook.ts.)
//
// Order of work: per batch of tiles, read and authenticate (tiles.ts) and decide; then, at most every
// commitSeconds (every appendSeconds when that takes an append), append what the batches since the last
// commit found to the log (the commit point of what was found) and move the position past them (state.ts,
// compare-and-swap). On start the
// log is read: a toolchain record or alarm already there (an earlier run died between its append and its
// position commit) is not appended again. Cheap catch-up: the first tile read is the one holding the
// position, so a scan that starts at a configured record (say go1.21.0's first toolchain record, about
// 18,938,500) reads nothing before it, and a scan that is up to date reads one `latest` and the new tiles.
//
// At the end of a run whose position is ahead of the log's last scan record, that position is signed
// into the log (a sumdb-scan record, scan-record.ts, with the SHA-256 of the module index): the window
// read, as evidence, and where a lost state continues from (restoreFromLog; state.ts findRestorable).
import { EnvironmentError, UsageError } from '../errors.js';
import type { WitnessLog } from '../log/log.js';
import { type LogRecord, parseRecord } from '../log/record.js';
import type { SumdbClient } from '../sumdb/client.js';
import { parseGoSumRecord } from '../sumdb/record.js';
import type { SignedCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual, decodeUtf8, encodeBase64 } from '../tlog/encoding.js';
import type { SignerKey } from '../tlog/note.js';
import { TILE_WIDTH } from '../tlog/tile.js';
import { formatTime } from '../infra/time.js';
import { type TagState, tagStateFromRecords } from '../tags/state.js';
import { type ToolchainLedger, toolchainLedgerFromRecords } from './ledger.js';
import {
  TOOLCHAIN_MODULE,
  type ToolchainAlarm,
  type ToolchainRecord,
  alarmKey,
  distpackReproducible,
  toolchainAlarmToLogRecord,
  toolchainRecordToLogRecord,
  toolchainVersionParts,
} from './record.js';
import type { ModuleVersionIndex } from './module-index.js';
import { ScanState, type ScanPosition, scanCrashPoint } from './state.js';
import { type ScanRecord, scanRecordToLogRecord } from './scan-record.js';
import { DataTileReader, type DataTileRecords, readAuthenticatedDataTiles } from './tiles.js';
import { TileCheckPool, defaultTileWorkers } from './tile-workers.js';
import { isPlannedVersion, parseGoVersion } from '../release/target.js';

/** Batches read ahead of the one being indexed. */
const BATCHES_AHEAD = 2;

export interface ScanOptions {
  readonly client: SumdbClient;
  readonly log: WitnessLog;
  readonly signer: SignerKey;
  /** The witness state folder (the scan keeps its position under sumdb-scan/). */
  readonly stateDir: string;
  /** Where a first scan starts (default 0). With an existing position it must equal the start recorded. */
  readonly from?: bigint;
  /** Scan up to this tree size (default: the head's). */
  readonly to?: bigint;
  /** Days after a tag's first-seen time before its missing toolchain record is an alarm (default 14). */
  readonly tagGraceDays?: number;
  /** Tiles per batch (default 64, i.e. 16,384 records). */
  readonly batchTiles?: number;
  /**
   * Move the durable position at most this often (default 5 s; 0: after every batch). What the batches
   * found is appended to the log before; a crash only means re-reading the batches after the position.
   */
  readonly commitSeconds?: number;
  /**
   * Append what was found (a git commit) at most this often (default 6 × commitSeconds: 30 s); meanwhile
   * the position waits before what was found.
   */
  readonly appendSeconds?: number;
  /** Tiles fetched at once (default 8). */
  readonly concurrency?: number;
  /**
   * Worker threads that check the tiles (decoding and hashing: tile-workers.ts) while this thread fetches
   * and indexes. Default: defaultTileWorkers() (one on 2 CPUs, one per CPU beyond two, at most 4) when the scan reads more
   * than one batch of tiles, none otherwise; 0: everything in this thread.
   */
  readonly workers?: number;
  /**
   * When the state folder has no position of this database: continue from the witness log's last scan
   * record of it (from `from`, when given), if the module index in the folder is the one that record
   * signs (state.ts findRestorable); otherwise start afresh at `from`, and say why. The log also bounds an
   * existing position: one it does not vouch for is restored the same way.
   */
  readonly restoreFromLog?: boolean;
  readonly now?: () => Date;
  readonly onProgress?: (progress: { position: bigint; end: bigint; tiles: number; records: number }) => void;
}

export interface ScanReport {
  readonly database: string;
  readonly start: bigint;
  /** The position before and after this run. */
  readonly from: bigint;
  readonly position: bigint;
  readonly head: { readonly size: bigint; readonly rootHash: string };
  /** The tree size this run scanned to (the head's, or --to). */
  readonly end: bigint;
  readonly tilesRead: number;
  readonly bytesRead: number;
  readonly recordsScanned: number;
  /** Records whose text is not two go.sum lines (still indexed by their whole text). */
  readonly malformedRecords: number;
  readonly toolchains: ReadonlyArray<{ readonly index: bigint; readonly toolchain: ToolchainRecord }>;
  /** Toolchain records found already in the log at or after the starting position (an interrupted run). */
  readonly reconciled: number;
  readonly alarms: ReadonlyArray<{ readonly index: bigint; readonly alarm: ToolchainAlarm }>;
  readonly appended?: { readonly oldSize: bigint; readonly newSize: bigint };
  /** What --restore-state-from-log did (set only when it was asked for and the state had no position, or one the log does not vouch for). */
  readonly restore?: { readonly restored: boolean; readonly index?: bigint; readonly position?: bigint; readonly why?: string };
  /** The log's last scan record of this scan before the run, when the state was behind it (its records are read again). */
  readonly behindLog?: { readonly index: bigint; readonly position: bigint };
  /** The scan record this run appended (the position as the log now says it). */
  readonly scanRecord?: { readonly index: bigint; readonly scan: ScanRecord };
  readonly seconds: number;
}

type Finding = { kind: 'toolchain'; toolchain: ToolchainRecord } | { kind: 'alarm'; alarm: ToolchainAlarm } | { kind: 'scan'; scan: ScanRecord };

function findingToLogRecord(item: Finding): LogRecord {
  if (item.kind === 'toolchain') return toolchainRecordToLogRecord(item.toolchain);
  if (item.kind === 'alarm') return toolchainAlarmToLogRecord(item.alarm);
  return scanRecordToLogRecord(item.scan);
}

interface LogView {
  size: bigint;
  tags: TagState;
  ledger: ToolchainLedger;
  records: Array<{ index: bigint; record: LogRecord }>;
}

async function readLogView(log: WitnessLog): Promise<LogView> {
  const { checkpoint, entries } = await log.readVerifiedEntries();
  const records = entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }));
  return { size: checkpoint.checkpoint.size, tags: tagStateFromRecords(records), ledger: toolchainLedgerFromRecords(records), records };
}

export async function scanSumdb(options: ScanOptions): Promise<ScanReport> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  const batchTiles = positiveInteger(options.batchTiles ?? 64, '--batch-tiles');
  const concurrency = positiveInteger(options.concurrency ?? 8, '--concurrency');
  const graceDays = options.tagGraceDays ?? 14;
  const commitMs = (options.commitSeconds ?? 5) * 1000;
  if (!Number.isFinite(commitMs) || commitMs < 0) throw new UsageError('BAD_OPTION', '--commit-seconds must be a non-negative number');
  const appendMs = options.appendSeconds === undefined ? 6 * commitMs : options.appendSeconds * 1000;
  if (!Number.isFinite(appendMs) || appendMs < 0) throw new UsageError('BAD_OPTION', 'appendSeconds must be a non-negative number');
  if (!Number.isFinite(graceDays) || graceDays < 0) throw new UsageError('BAD_OPTION', '--tag-grace-days must be a non-negative number');
  if (options.from !== undefined && options.from < 0n) throw new UsageError('BAD_OPTION', '--from must be a record number (>= 0)');
  if (options.to !== undefined && options.to < 0n) throw new UsageError('BAD_OPTION', '--to must be a tree size (>= 0)');
  if (options.workers !== undefined && (!Number.isSafeInteger(options.workers) || options.workers < 0 || options.workers > 64)) {
    throw new UsageError('BAD_OPTION', '--workers must be an integer from 0 to 64');
  }
  const { client, log, signer } = options;

  const state = await ScanState.open(options.stateDir, client.verifierKey);
  let pool: TileCheckPool | undefined;
  try {
    let position: ScanPosition | undefined = state.position;
    if (position && options.from !== undefined && options.from !== position.start) {
      throw new UsageError(
        'SCAN_FROM_MISMATCH',
        `this scan started at record ${position.start} and is at ${position.position}; --from ${options.from} would ${options.from < position.position ? 'go back' : 'leave a gap'} (use another --state to scan another range)`,
      );
    }
    const view = await readLogView(log);
    const database = client.verifierKey;
    // With --restore-state-from-log the log bounds the state: a position the log's scan records do not
    // vouch for (ahead of the last one of its scan, or with none at all: a folder planted or copied in) is
    // not trusted, only its index may be. A lost or distrusted state is restored from the newest scan
    // record its module index continues (state.ts findRestorable), once the head is proven consistent with
    // that record's tree head: nothing is written before.
    const own = position ? view.ledger.scans.lastOf(database, position.start) : undefined;
    const distrusted = position && options.restoreFromLog && (!own || position.position > own.scan.position) ? position : undefined;
    const lost = !position || distrusted !== undefined;
    const newest = lost && options.restoreFromLog ? (distrusted ? own : view.ledger.scans.lastOf(database, options.from)) : undefined;
    const candidates = newest ? view.ledger.scans.recordsOf(database, newest.scan.start) : [];
    const match = candidates.length > 0 ? await state.findRestorable(candidates.map(({ scan }) => scan)) : undefined;
    const restorable = match && 'scan' in match ? candidates.find(({ scan }) => scan === match.scan)! : undefined;
    // Validate everything before writing anything: the head, its consistency with the last one scanned
    // and with the log's last scan record of this scan.
    const head = await client.latest();
    const size = head.checkpoint.size;
    const heads = [...(lost ? [] : [position!]), ...(restorable ? [restorable.scan] : []), ...(own ? [own.scan] : []), ...(newest ? [newest.scan] : [])];
    const proven = new Set<string>();
    for (const previous of heads) {
      if (previous.treeSize === 0n || proven.has(`${previous.treeSize} ${previous.treeRoot}`)) continue;
      proven.add(`${previous.treeSize} ${previous.treeRoot}`);
      await client.proveConsistency({ origin: client.origin, size: previous.treeSize, rootHash: decodeRoot(previous.treeRoot), extensions: [] }, head);
    }
    if (options.to !== undefined && options.to > size) throw new UsageError('BAD_OPTION', `--to ${options.to} is beyond the database's signed tree head (size ${size})`);
    if (options.from !== undefined && options.from > size) throw new UsageError('BAD_OPTION', `--from ${options.from} is beyond the database's signed tree head (size ${size})`);
    let restore: ScanReport['restore'];
    if (lost && options.restoreFromLog) {
      const distrust = distrusted
        ? `the state's position ${distrusted.position} is ${own ? `ahead of the log's last scan record of it (${own.scan.position}, log index ${own.index})` : 'in no scan record of the log'}; `
        : '';
      if (distrusted) await state.discard();
      if (!newest) {
        restore = { restored: false, why: `${distrust}the witness log has no scan record of this database${options.from !== undefined ? ` from record ${options.from}` : ''}` };
      } else if (restorable) {
        position = await state.applyRestore(restorable.scan);
        restore = { restored: true, index: restorable.index, position: restorable.scan.position, ...(distrust ? { why: distrust.replace(/; $/, '') } : {}) };
      } else {
        restore = { restored: false, index: newest.index, position: newest.scan.position, why: `${distrust}${match && 'why' in match ? match.why : 'no scan record'}` };
      }
      if (!restore.restored) position = undefined;
    }
    // Afresh: at --from, else where the scan that could not be restored started.
    if (!position) position = await state.initialize(options.from ?? distrusted?.start ?? newest?.scan.start ?? 0n);
    const inLog = view.ledger.scans.lastOf(database, position.start);
    const behindLog = inLog && inLog.scan.position > position.position ? { index: inLog.index, position: inLog.scan.position } : undefined;
    const startPosition = position.position;
    const end = options.to ?? size;
    const index = await state.loadIndex();
    let savedEntries = index.size;
    const tilesToRead = end > position.position ? (end - 1n) / BigInt(TILE_WIDTH) - position.position / BigInt(TILE_WIDTH) + 1n : 0n;
    pool = new TileCheckPool(options.workers ?? (tilesToRead > BigInt(batchTiles) ? defaultTileWorkers() : 0));
    // Room for every record this run may scan, at once (a resize per doubling would rehash them all).
    if (end > position.position) index.reserve(Number(end - position.position));

    const reconciled = view.ledger.toolchains.filter(({ toolchain }) => toolchain.record >= startPosition).length;
    const found: Array<{ index: bigint; toolchain: ToolchainRecord }> = [];
    const raised: Array<{ index: bigint; alarm: ToolchainAlarm }> = [];
    let appended: { oldSize: bigint; newSize: bigint } | undefined;
    let scanRecord: { index: bigint; scan: ScanRecord } | undefined;
    let tilesRead = 0;
    let bytesRead = 0;
    let recordsScanned = 0;
    let malformedRecords = 0;
    const rootText = encodeBase64(head.checkpoint.rootHash);
    const time = () => formatTime(now());

    // Appends `records` (toolchain records, alarms and the scan record, keys checked against the log) as one commit.
    const append = async (records: Finding[]) => {
      let result;
      for (let attempt = 0; ; attempt++) {
        if (records.length === 0) return;
        const logRecords = records.map(findingToLogRecord);
        const toolchains = records.filter((item) => item.kind === 'toolchain').length;
        const alarms = records.filter((item) => item.kind === 'alarm').length;
        const scan = records.find((item) => item.kind === 'scan');
        try {
          result = await log.append(logRecords, signer, {
            summary: `sumdb scan: ${toolchains} toolchain ${toolchains === 1 ? 'record' : 'records'}${alarms ? `, ${alarms} ${alarms === 1 ? 'alarm' : 'alarms'}` : ''}${scan ? `, position ${scan.scan.position}` : ''}`,
            expectedSize: view.size,
          });
          break;
        } catch (error) {
          // Another command appended meanwhile (tags, cosign): read the log again, drop what it now holds.
          if (!(error instanceof EnvironmentError && error.code === 'LOG_CHANGED') || attempt >= 3) throw error;
          Object.assign(view, await readLogView(log));
          records = records.filter((item) =>
            item.kind === 'toolchain'
              ? !view.ledger.byRecord.has(item.toolchain.record)
              : item.kind === 'alarm'
                ? !view.ledger.alarmKeys.has(alarmKey(item.alarm))
                : isAheadOfLog(view, item.scan),
          );
        }
      }
      const logRecords = records.map(findingToLogRecord);
      appended = { oldSize: appended?.oldSize ?? result.oldSize, newSize: result.newSize };
      const types = new Map(view.records.map(({ index: at, record }) => [at, record.type] as const));
      logRecords.forEach((record, i) => {
        const at = view.size + BigInt(i);
        view.records.push({ index: at, record });
        types.set(at, record.type);
        view.ledger.apply(at, record, types);
        const item = records[i]!;
        if (item.kind === 'toolchain') found.push({ index: at, toolchain: item.toolchain });
        else if (item.kind === 'alarm') raised.push({ index: at, alarm: item.alarm });
        else scanRecord = { index: at, scan: item.scan };
      });
      view.size = result.newSize;
    };

    // Earlier records' texts, for confirming a module version seen twice (usually never needed).
    let recent: DataTileRecords[] = [];
    const textOf = async (record: bigint): Promise<Uint8Array> => {
      for (const tile of recent) {
        if (record >= tile.first && record < tile.first + BigInt(tile.count)) return tile.text(Number(record - tile.first));
      }
      const tile = record / BigInt(TILE_WIDTH);
      const [data] = await readAuthenticatedDataTiles(client, head, [tile], 1);
      return data!.text(Number(record - data!.first));
    };

    let nextTile = position.position / BigInt(TILE_WIDTH);
    const lastTile = end === 0n ? -1n : (end - 1n) / BigInt(TILE_WIDTH);
    const batchOf = (first: bigint): bigint[] => {
      const out: bigint[] = [];
      for (let t = first; t <= lastTile && out.length < batchTiles; t++) out.push(t);
      return out;
    };
    // The next batches are read while one is indexed (their fetches share one limit: DataTileReader).
    const reader = new DataTileReader(client, head, concurrency, pool);
    const ahead: Array<Promise<DataTileRecords[]>> = [];
    let requested = nextTile;
    const readAhead = () => {
      while (ahead.length < BATCHES_AHEAD && requested <= lastTile) {
        const batch = batchOf(requested);
        requested += BigInt(batch.length);
        const read = reader.read(batch);
        read.catch(() => undefined);
        ahead.push(read);
      }
    };
    if (position.position < end) readAhead();
    let lastCommit = Date.now();
    let lastAppend = lastCommit;
    let scanned = position.position;
    // What the batches since the last commit found: appended to the log just before the position moves
    // past them (one log commit per position commit, not one per batch).
    let toAppend: Finding[] = [];
    let pendingKeys = new Set<string>();
    const raise = (alarm: ToolchainAlarm) => {
      const key = alarmKey(alarm);
      if (view.ledger.alarmKeys.has(key) || pendingKeys.has(key)) return;
      pendingKeys.add(key);
      toAppend.push({ kind: 'alarm', alarm });
    };
    while (ahead.length > 0) {
      const tiles = await ahead.shift()!;
      nextTile += BigInt(tiles.length);
      readAhead();

      const batchStart = scanned;
      const batchEnd = minBig(end, (nextTile) * BigInt(TILE_WIDTH));
      recent = tiles;
      for (const tile of tiles) {
        tilesRead++;
        bytesRead += tile.bytes;
      }
      for (const tile of tiles) {
        // Records [lo, hi) of this tile are in the batch (numbers here: BigInt only where a record is kept).
        const lo = tile.first >= batchStart ? 0 : Number(batchStart - tile.first);
        const hi = Math.min(tile.count, Number(batchEnd - tile.first));
        recordsScanned += Math.max(0, hi - lo);
        // Every record is keyed by its module version (on the bytes) and indexed; only toolchain records
        // (and records seen twice) are parsed, strictly.
        const looks = indexRecords(tile, lo, hi, index);
        malformedRecords += looks.malformed;
        for (const { i, matches } of looks.closer) {
          const text = tile.text(i);
          let sum: { path: string; version: string } | undefined;
          try {
            sum = parseGoSumRecord(text);
          } catch {
            malformedRecords++;
          }
          if (sum) {
            const record = tile.first + BigInt(i);
            for (const earlier of matches) {
              let first;
              try {
                first = parseGoSumRecord(await textOf(earlier));
              } catch {
                continue;
              }
              if (first.path !== sum.path || first.version !== sum.version) continue; // a key collision
              raise({
                kind: 'duplicate-module-version',
                fields: [
                  { key: 'module', value: sum.path },
                  { key: 'version', value: sum.version },
                  { key: 'record', value: String(record) },
                  ...goSumLines(text).map((value) => ({ key: 'go-sum', value })),
                  { key: 'first-record', value: String(earlier) },
                  ...goSumLines(await textOf(earlier)).map((value) => ({ key: 'first-go-sum', value })),
                  { key: 'same-hashes', value: bytesEqual(await textOf(earlier), text) ? 'yes' : 'no' },
                  { key: 'tree-size', value: String(size) },
                  { key: 'tree-root', value: rootText },
                ],
                time: time(),
              });
              break;
            }
          }
          if (!sum || sum.path !== TOOLCHAIN_MODULE) continue;
          const record = tile.first + BigInt(i);
          if (view.ledger.byRecord.has(record)) continue;
          const parts = toolchainVersionParts(sum.version);
          const toolchain: ToolchainRecord = {
            moduleVersion: sum.version,
            ...(parts ?? {}),
            record,
            goSum: goSumLines(text),
            treeSize: size,
            treeRoot: rootText,
            reproducible: distpackReproducible(parts?.goVersion),
            scanned: time(),
          };
          toAppend.push({ kind: 'toolchain', toolchain });
          const goVersion = parts?.goVersion ?? sum.version;
          if (!view.tags.present.has(`refs/tags/${goVersion}`)) {
            const latestTag = view.tags.history[view.tags.history.length - 1]?.record;
            raise({
              kind: 'toolchain-without-source',
              fields: [
                { key: 'go-version', value: goVersion },
                { key: 'record', value: String(record) },
                { key: 'module-version', value: sum.version },
                { key: 'repository', value: latestTag?.repository ?? 'none (witness tags has never recorded a tag in this log)' },
                { key: 'tags-recorded', value: latestTag?.firstSeen ?? 'never' },
              ],
              time: time(),
            });
          }
        }
      }
      scanned = batchEnd;
      // Commit at most every commitSeconds; when that means a log append (something was found), at most
      // every appendSeconds (the position waits: it may not pass what is not in the log yet).
      const now = Date.now();
      if (ahead.length === 0 || (now - lastCommit >= commitMs && (toAppend.length === 0 || now - lastAppend >= appendMs))) {
        if (toAppend.length > 0) {
          await append(toAppend);
          scanCrashPoint('scan-after-append');
          lastAppend = Date.now();
        }
        toAppend = [];
        pendingKeys = new Set();
        position = await state.commit(position, { position: batchEnd, treeSize: size, treeRoot: rootText }, index, savedEntries);
        savedEntries = index.size;
        lastCommit = Date.now();
      }
      options.onProgress?.({ position: scanned, end, tiles: tilesRead, records: recordsScanned });
    }
    if (position.position < end) throw new EnvironmentError('SCAN_INCOMPLETE', `internal: the scan stopped at ${position.position}, before ${end}`);
    if (position.treeSize !== size && position.position === startPosition) {
      // Nothing new to read: remember the head it was checked against.
      position = await state.commit(position, { position: position.position, treeSize: size, treeRoot: rootText }, index, savedEntries);
    }

    // Tags with no toolchain record N days after they were first seen: only once the scan is up to date.
    const last: Finding[] = [];
    if (position.position === size) {
      const nowMs = now().getTime();
      for (const tag of view.tags.present.values()) {
        const name = tag.record.ref.replace(/^refs\/tags\//, '');
        const version = parseGoVersion(name);
        // Plain releases only: not every release candidate of a distpack line was published as a toolchain.
        if (!version || !isPlannedVersion(version)) continue;
        if (view.ledger.byGoVersion.has(name)) continue;
        const firstSeen = Date.parse(tag.record.firstSeen);
        const days = Math.floor((nowMs - firstSeen) / 86_400_000);
        if (nowMs - firstSeen < graceDays * 86_400_000) continue;
        const alarm: ToolchainAlarm = {
          kind: 'tag-without-toolchain',
          fields: [
            { key: 'ref', value: tag.record.ref },
            { key: 'tag-index', value: String(tag.index) },
            { key: 'first-seen', value: tag.record.firstSeen },
            { key: 'days', value: String(days) },
          ],
          time: time(),
        };
        if (!view.ledger.alarmKeys.has(alarmKey(alarm))) last.push({ kind: 'alarm', alarm });
      }
    }
    // The position, signed into the log whenever it is ahead of the log's last scan record (also after a
    // run that died before its record): evidence of the window read, and what a lost state is restored from.
    if (position.treeSize > 0n && position.position > position.start && isAheadOfLog(view, { database: client.verifierKey, ...position })) {
      const { start, position: at, treeSize, treeRoot } = position;
      last.push({ kind: 'scan', scan: { database: client.verifierKey, start, position: at, treeSize, treeRoot, moduleIndex: await state.indexDigest(), time: time() } });
    }
    if (last.some((item) => item.kind === 'scan')) scanCrashPoint('scan-before-record');
    await append(last);
    return {
      database: client.baseUrl,
      start: position.start,
      from: startPosition,
      position: position.position,
      head: { size, rootHash: rootText },
      end,
      tilesRead,
      bytesRead,
      recordsScanned,
      malformedRecords,
      toolchains: found,
      reconciled,
      alarms: raised,
      ...(appended ? { appended } : {}),
      ...(restore ? { restore } : {}),
      ...(behindLog ? { behindLog } : {}),
      ...(scanRecord ? { scanRecord } : {}),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool?.close();
    await state.close();
  }
}

/**
 * Indexes records [lo, hi) of a tile (their module-version keys, in record order) and returns the ones
 * that need a closer look: two go.sum lines that are a toolchain record or whose key was seen before (with
 * the earlier records of that key). Synchronous, so that the loop over every record stays tight.
 */
function indexRecords(
  tile: DataTileRecords,
  lo: number,
  hi: number,
  index: ModuleVersionIndex,
): { malformed: number; closer: Array<{ i: number; matches: readonly bigint[] }> } {
  const { keys, ends } = tile;
  const seen = index.findAndAddAll(keys, lo, hi);
  let next = 0; // into seen, which is in record order
  let malformed = 0;
  const closer: Array<{ i: number; matches: readonly bigint[] }> = [];
  for (let i = lo; i < hi; i++) {
    let matches: readonly bigint[] = NO_MATCHES;
    if (seen !== undefined && seen[next]?.i === i) matches = seen[next++]!.earlier;
    if (ends[i]! < 0) malformed++;
    else if (matches.length > 0 || tile.startsWith(i, TOOLCHAIN_PREFIX)) closer.push({ i, matches });
  }
  return { malformed, closer };
}

const NO_MATCHES: readonly bigint[] = Object.freeze([]);
const TOOLCHAIN_PREFIX = Buffer.from(`${TOOLCHAIN_MODULE} `);

function goSumLines(text: Uint8Array): [string, string] {
  const lines = decodeUtf8(text).slice(0, -1).split('\n');
  return [lines[0]!, lines[1]!];
}

/** Whether `scan` moves the log's last scan record of its database and start forward (as the log's fold requires). */
function isAheadOfLog(view: LogView, scan: Pick<ScanRecord, 'database' | 'start' | 'position' | 'treeSize'>): boolean {
  const logged = view.ledger.scans.lastOf(scan.database, scan.start);
  return !logged || (scan.position > logged.scan.position && scan.treeSize >= logged.scan.treeSize);
}

function decodeRoot(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'base64'));
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError('BAD_OPTION', `${name} must be a positive integer`);
  return value;
}

export type { SignedCheckpoint };
