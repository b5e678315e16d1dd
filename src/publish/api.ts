// api/*.json: the site's content for programs, schema "go-source-witness/api/v1" (documented in the
// README). Log indexes and sizes are JSON numbers (all below 2^53); times are RFC 3339 UTC; links are
// relative to the JSON file. Like the pages, it is derived from verified entries and is a convenience:
// a client that must not trust the site verifies the log itself (the site root is the log).
import type { BuildRecord } from '../rebuild/record.js';
import type { TagRecord } from '../tags/record.js';
import type { CosignedHead, SplitView } from './model.js';
import { latestBuild, publishedEvidence, tagName } from './model.js';
import type { SiteContext } from './render.js';

export const API_SCHEMA = 'go-source-witness/api/v1';

const n = (value: bigint): number => Number(value);

function tagRecordJson(index: bigint, record: TagRecord) {
  const p = record.pointer;
  return {
    index: n(index),
    event: record.event,
    ...(p
      ? {
          object: p.object,
          objectType: p.objectType,
          ...(p.targetType === 'commit' ? { commit: p.target, tree: p.tree ?? null } : { target: p.target, targetType: p.targetType }),
        }
      : {}),
    previous: record.previous === undefined ? null : n(record.previous),
    repository: record.repository,
    firstSeen: record.firstSeen,
  };
}

function buildJson(ctx: SiteContext, index: bigint, build: BuildRecord, status: string) {
  const logPublished = ctx.buildLogs.has(build.buildLog.sha256);
  const published = publishedEvidence(build);
  return {
    index: n(index),
    status,
    version: build.version,
    target: build.target,
    env: build.env,
    outcome: build.outcome,
    tagIndex: n(build.tagIndex),
    commit: build.commit,
    tree: build.tree,
    result: build.result,
    builder: build.builder,
    bootstrap: build.bootstrap.map((b) => ({ version: b.version, hash: b.hash, commit: b.commit ?? null, tree: b.tree ?? null })),
    started: build.started,
    seconds: build.seconds,
    buildLog: { sha256: build.buildLog.sha256, size: build.buildLog.size, href: logPublished ? `../build-logs/${build.buildLog.sha256}.log` : null },
    sourceCheck: build.sourceCheck ?? null,
    files: build.files ?? [],
    goSum: build.goSum ?? [],
    failure: build.failure ?? null,
    verdicts: build.verdicts,
    evidence: build.evidence,
    recheckOf: build.recheckOf === undefined ? null : n(build.recheckOf),
    sumdbRecord: published.sumdbRecord ? { id: n(published.sumdbRecord.id), treeSize: n(published.sumdbRecord.treeSize), root: published.sumdbRecord.root, located: published.sumdbRecord.located, status: published.sumdbRecord.status } : null,
    published: [...published.files].map(([file, p]) => ({ file, sha256: p.sha256, size: p.size ?? null, source: p.source, status: p.status })),
    ingested: build.ingested,
    page: `../releases/${encodeURIComponent(build.version)}.html#b-${index}`,
  };
}

function headJson(head: CosignedHead) {
  return {
    index: n(head.index),
    origin: head.origin,
    size: n(head.size),
    root: head.root,
    extensions: head.extensions,
    logSignatures: head.logSignatures,
    cosignature: head.cosignature,
    previousSize: head.previousSize === undefined ? null : n(head.previousSize),
    source: head.source,
    time: head.time,
  };
}

function evidenceJson(view: SplitView) {
  return {
    index: n(view.index),
    origin: view.origin,
    reason: view.reason,
    cosignedNote: view.cosignedNote,
    presentedNote: view.presentedNote,
    proof: view.proof,
    tiles: view.tiles,
    source: view.source,
    time: view.time,
  };
}

const header = (ctx: SiteContext) => ({
  schema: API_SCHEMA,
  origin: ctx.model.origin,
  checkpoint: { size: n(ctx.checkpoint.size), rootHash: ctx.checkpoint.rootHash },
});

/** The API files, by path relative to the site root. */
export function apiFiles(ctx: SiteContext): Map<string, unknown> {
  const { model } = ctx;
  const files = new Map<string, unknown>();
  files.set('api/index.json', {
    ...header(ctx),
    verifierKey: ctx.verifierKey,
    checkpoint: { size: n(ctx.checkpoint.size), rootHash: ctx.checkpoint.rootHash, time: ctx.checkpoint.time ?? null, timeSource: ctx.checkpoint.timeSource ?? null },
    generated: ctx.generated ?? null,
    recordTypes: model.recordTypes,
    counts: {
      tagsPresent: model.tags.present.size,
      tagRecords: model.tags.history.length,
      builds: model.builds.length,
      cosignedHeads: model.cosigned.length,
      witnessedLogs: model.latestCosigned.length,
      splitViews: model.evidence.length,
      alarms: model.alarms.length,
    },
    alarms: model.alarms.map((alarm) => ({
      kind: alarm.kind,
      index: n(alarm.index),
      related: alarm.related.map(n),
      title: alarm.title,
      detail: alarm.detail,
      time: alarm.time ?? null,
      version: alarm.version ?? null,
      target: alarm.target ?? null,
    })),
    targets: model.targets,
    releases: model.releases.map((row) => ({
      version: row.version,
      tag: row.tag ? { index: n(row.tag.index), commit: row.tag.pointer.target, tree: row.tag.pointer.tree ?? null } : null,
      page: `../releases/${encodeURIComponent(row.version)}.html`,
      latest: Object.fromEntries(
        model.targets.flatMap((target) => {
          const latest = latestBuild(row, target);
          return latest ? [[target, { index: n(latest.index), status: latest.status }]] : [];
        }),
      ),
    })),
    links: {
      tags: 'tags.json',
      builds: 'builds.json',
      cosigned: 'cosigned.json',
      toolchains: 'toolchains.json',
      feed: '../feed.atom',
      site: '../index.html',
      checkpoint: '../checkpoint',
      verifierKey: '../log.vkey',
      tagsTxt: '../tags.txt',
      verifyPage: '../verify.html',
    },
  });
  const byRef = new Map<string, Array<ReturnType<typeof tagRecordJson>>>();
  for (const { index, record } of model.tags.history) byRef.set(record.ref, [...(byRef.get(record.ref) ?? []), tagRecordJson(index, record)]);
  files.set('api/tags.json', {
    ...header(ctx),
    tags: [...byRef.keys()].sort().map((ref) => {
      const latest = model.tags.latest.get(ref)!;
      return { ref, name: tagName(ref), present: model.tags.present.has(ref), latest: tagRecordJson(latest.index, latest.record), records: byRef.get(ref)! };
    }),
  });
  files.set('api/builds.json', {
    ...header(ctx),
    builds: model.builds.map(({ index, build, status }) => buildJson(ctx, index, build, status)),
  });
  files.set('api/cosigned.json', {
    ...header(ctx),
    latest: model.latestCosigned.map(headJson),
    heads: model.cosigned.map(headJson),
    evidence: model.evidence.map(evidenceJson),
  });
  return files;
}
