// feed.atom: an Atom 1.0 feed (RFC 4287) of the records worth telling: tags (new, moved, vanished,
// reappeared), builds, the latest cosigned head of each witnessed log, and every alarm. Entry ids are
// stable (`urn:go-source-witness:<origin>:<log index>`: a record never changes), `updated` is the
// record's own time, newest first; the newest FEED_LIMIT entries plus every alarm.
import { escapeHtml } from './html.js';
import { type Alarm, type SiteModel, tagName } from './model.js';
import { alarmLink } from './render.js';

export const FEED_LIMIT = 200;

export interface FeedEntry {
  readonly id: string;
  readonly index: bigint;
  readonly title: string;
  readonly updated: string;
  /** Relative to the site root. */
  readonly link: string;
  readonly summary: string;
  readonly alarm: boolean;
  readonly category: 'tag' | 'build' | 'cosigned' | 'evidence' | 'alarm';
}

/** Characters XML 1.0 cannot carry (record values may hold noncharacters such as U+FFFF). */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

function text(value: string): string {
  return escapeHtml(value.replace(NOT_XML, '\ufffd'));
}

export function feedId(origin: string, index?: bigint): string {
  return `urn:go-source-witness:${encodeURIComponent(origin)}${index === undefined ? '' : `:${index}`}`;
}

function link(parts: string[]): string {
  const fragment = parts[parts.length - 1]!;
  return `${parts.slice(0, -1).map(encodeURIComponent).join('/')}#${encodeURIComponent(fragment)}`;
}

export function feedEntries(model: SiteModel, fallbackTime: string, extra: readonly FeedEntry[] = []): FeedEntry[] {
  const alarmsByIndex = new Map<bigint, Alarm[]>();
  for (const alarm of model.alarms) alarmsByIndex.set(alarm.index, [...(alarmsByIndex.get(alarm.index) ?? []), alarm]);
  const entries: FeedEntry[] = [];
  const add = (index: bigint, category: FeedEntry['category'], title: string, summary: string, where: string[] | undefined, time: string | undefined) => {
    const alarms = alarmsByIndex.get(index) ?? [];
    const first = alarms[0];
    entries.push({
      id: feedId(model.origin, index),
      index,
      title: first ? `ALARM: ${alarms.map((a) => a.title).join('; ')}` : title,
      updated: time ?? fallbackTime,
      link: where ? link(where) : (first && alarmLink(first) ? link(alarmLink(first)!) : 'index.html#alarms'),
      summary: first ? `${alarms.map((a) => `${a.title}: ${a.detail}`).join('\n')}\n\n${summary}` : summary,
      alarm: alarms.length > 0,
      category: alarms.length > 0 ? 'alarm' : category,
    });
  };
  for (const { index, record } of model.tags.history) {
    const name = tagName(record.ref);
    const p = record.pointer;
    const what = p ? `${p.targetType} ${p.target}${p.tree ? ` (tree ${p.tree})` : ''}${p.objectType === 'tag' ? `, tag object ${p.object}` : ''}` : 'no object';
    const titles = { new: `New tag ${name}`, moved: `Tag ${name} moved`, vanished: `Tag ${name} vanished`, reappeared: `Tag ${name} reappeared` };
    add(index, 'tag', titles[record.event], `${record.ref} -> ${what}; first seen ${record.firstSeen} in ${record.repository} (log index ${index})`, ['tags.html', `r-${index}`], record.firstSeen);
  }
  for (const { index, build, status } of model.builds) {
    const where = `${build.version} ${build.target}${build.env.length ? ` (${build.env.join(' ')})` : ''}`;
    const details = build.outcome === 'failed' ? `failed: ${build.failure ?? ''}` : build.verdicts.map((v) => `${v.file}: ${v.status} (${v.source})`).join('; ') || 'no verdicts';
    add(index, 'build', `Build ${where}: ${status}`, `${where} from commit ${build.commit}, built by ${build.builder}: ${details} (log index ${index})`, ['releases', `${build.version}.html`, `b-${index}`], build.ingested);
  }
  for (const head of model.latestCosigned) {
    add(head.index, 'cosigned', `Cosigned ${head.origin} at size ${head.size}`, `${head.origin} size ${head.size} root ${head.root}, from ${head.source} (log index ${head.index})`, ['cosigned.html', `r-${head.index}`], head.time);
  }
  for (const view of model.evidence) {
    add(view.index, 'evidence', `Split view of ${view.origin}`, `${view.reason}; from ${view.source} (log index ${view.index})`, ['cosigned.html', `r-${view.index}`], model.recordTimes.get(view.index));
  }
  // Alarms on records that have no entry of their own (malformed records).
  const listed = new Set(entries.map((e) => e.index));
  for (const alarm of model.alarms) if (!listed.has(alarm.index)) {
    listed.add(alarm.index);
    add(alarm.index, 'alarm', alarm.title, alarm.detail, undefined, alarm.time);
  }
  entries.push(...extra);
  entries.sort((a, b) => (a.updated !== b.updated ? (a.updated < b.updated ? 1 : -1) : a.index < b.index ? 1 : a.index > b.index ? -1 : 0));
  let plain = 0;
  return entries.filter((entry) => entry.alarm || plain++ < FEED_LIMIT);
}

export function renderFeed(model: SiteModel, options: { updated: string; checkpointSize: bigint; extra?: readonly FeedEntry[] }): string {
  const entries = feedEntries(model, options.updated, options.extra);
  // The feed changed when its newest entry appeared (the log's time only when it has no entry at all).
  const updated = entries.length === 0 ? options.updated : entries.reduce((max, e) => (e.updated > max ? e.updated : max), entries[0]!.updated);
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${text(feedId(model.origin))}</id>`,
    `  <title>${text(`go-source-witness: ${model.origin}`)}</title>`,
    `  <subtitle>${text(`New records of the witness log ${model.origin} (size ${options.checkpointSize}): Go tags, toolchain builds, witnessed checksum database heads, and every alarm.`)}</subtitle>`,
    `  <updated>${text(updated)}</updated>`,
    `  <author><name>${text(model.origin)}</name></author>`,
    '  <generator>go-source-witness</generator>',
    '  <link rel="self" type="application/atom+xml" href="feed.atom"/>',
    '  <link rel="alternate" type="text/html" href="index.html"/>',
  ];
  for (const entry of entries) {
    lines.push(
      '  <entry>',
      `    <id>${text(entry.id)}</id>`,
      `    <title>${text(entry.title)}</title>`,
      `    <updated>${text(entry.updated)}</updated>`,
      `    <link rel="alternate" type="text/html" href="${text(entry.link)}"/>`,
      `    <category term="${entry.category}"/>`,
      `    <summary type="text">${text(entry.summary)}</summary>`,
      '  </entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}
