// toolchains.html, api/toolchains.json and the feed entries of toolchain alarms: what the checksum
// database published for golang.org/toolchain (toolchain records of `witness sumdb scan`), per release:
// targets published, built, equal, pending (published, no build record), and alarms, alarms first.
// Derived from the verified entries, like every page (site.ts).
import { type BuildStatus } from '../rebuild/record.js';
import { compareGoVersions, parseGoVersion } from '../release/target.js';
import type { LogRecord } from '../log/record.js';
import { type IndexedAlarm, type IndexedToolchain, toolchainLedgerFromRecords } from '../toolchains/ledger.js';
import { type ToolchainAlarm, alarmField } from '../toolchains/record.js';
import type { IndexedScan } from '../toolchains/scan-record.js';
import type { FeedEntry } from './feed.js';
import { feedId } from './feed.js';
import { html, href } from './html.js';
import { type IndexedBuild, type SiteModel } from './model.js';
import { type SiteContext, badge, page } from './render.js';

export interface ToolchainTarget {
  readonly target: string;
  readonly toolchain: IndexedToolchain;
  /** The latest build record of this version and target, if any. */
  readonly build?: IndexedBuild;
}

export interface ToolchainRelease {
  readonly goVersion: string;
  readonly reproducible: boolean;
  readonly tagged: boolean;
  readonly targets: readonly ToolchainTarget[];
  readonly alarms: readonly IndexedAlarm[];
}

export interface ToolchainsModel {
  readonly toolchains: number;
  readonly releases: readonly ToolchainRelease[];
  readonly alarms: readonly IndexedAlarm[];
  /** How far each scan has read (the last sumdb-scan record of each database and start). */
  readonly scans: readonly IndexedScan[];
}

/** The alarm's Go version, when it is about one. */
function alarmVersion(alarm: ToolchainAlarm): string | undefined {
  if (alarm.kind === 'toolchain-without-source') return alarmField(alarm, 'go-version');
  if (alarm.kind === 'build-disagrees') return alarmField(alarm, 'version');
  if (alarm.kind === 'tag-without-toolchain') return alarmField(alarm, 'ref').replace(/^refs\/tags\//, '');
  return undefined;
}

export function buildToolchainsModel(model: SiteModel, records: ReadonlyArray<{ index: bigint; record: LogRecord }>): ToolchainsModel {
  const ledger = toolchainLedgerFromRecords(records);
  const versions = new Map<string, IndexedToolchain[]>();
  for (const entry of ledger.toolchains) {
    const version = entry.toolchain.goVersion ?? entry.toolchain.moduleVersion;
    versions.set(version, [...(versions.get(version) ?? []), entry]);
  }
  for (const { alarm } of ledger.alarms) {
    const version = alarmVersion(alarm);
    if (version !== undefined && !versions.has(version)) versions.set(version, []);
  }
  const latest = new Map<string, IndexedBuild>();
  for (const build of model.builds) latest.set(`${build.build.version} ${build.build.target}`, build);
  const releases = [...versions].map(([goVersion, entries]): ToolchainRelease => {
    const targets = new Map<string, ToolchainTarget>();
    for (const toolchain of entries) {
      const target = toolchain.toolchain.target ?? toolchain.toolchain.moduleVersion;
      if (targets.has(target)) continue; // a second record of one module version: its alarm says so
      const build = latest.get(`${goVersion} ${target}`);
      targets.set(target, { target, toolchain, ...(build ? { build } : {}) });
    }
    return {
      goVersion,
      reproducible: entries.some((e) => e.toolchain.reproducible),
      tagged: model.tags.present.has(`refs/tags/${goVersion}`),
      targets: [...targets.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)),
      alarms: ledger.alarms.filter(({ alarm }) => alarmVersion(alarm) === goVersion),
    };
  });
  releases.sort((a, b) => {
    const va = parseGoVersion(a.goVersion);
    const vb = parseGoVersion(b.goVersion);
    if (va && vb) return compareGoVersions(vb, va);
    if (va || vb) return va ? -1 : 1;
    return a.goVersion < b.goVersion ? -1 : a.goVersion > b.goVersion ? 1 : 0;
  });
  return { toolchains: ledger.toolchains.length, releases, alarms: [...ledger.alarms].reverse(), scans: ledger.scans.all() };
}

const ALARM_TITLE: Record<ToolchainAlarm['kind'], (alarm: ToolchainAlarm) => string> = {
  'toolchain-without-source': (a) => `Toolchain without source: ${alarmField(a, 'module-version')} (sumdb record ${alarmField(a, 'record')}) has no tag ${alarmField(a, 'go-version')}`,
  'duplicate-module-version': (a) => `Two records for ${alarmField(a, 'module')}@${alarmField(a, 'version')}: sumdb records ${alarmField(a, 'first-record')} and ${alarmField(a, 'record')}`,
  'build-disagrees': (a) => `Build of ${alarmField(a, 'version')} ${alarmField(a, 'target')} disagrees with sumdb record ${alarmField(a, 'record')}`,
  'tag-without-toolchain': (a) => `No toolchain in sumdb for ${alarmField(a, 'ref').replace(/^refs\/tags\//, '')} ${alarmField(a, 'days')} days after its tag was first seen`,
};

function alarmDetail(alarm: ToolchainAlarm): string {
  switch (alarm.kind) {
    case 'toolchain-without-source':
      return `No tag ${alarmField(alarm, 'go-version')} in the log; tags of ${alarmField(alarm, 'repository')} last recorded ${alarmField(alarm, 'tags-recorded')}`;
    case 'duplicate-module-version':
      return `Checksums ${alarmField(alarm, 'same-hashes') === 'yes' ? 'equal' : 'DIFFER'}; proven in tree ${alarmField(alarm, 'tree-size')} (${alarmField(alarm, 'tree-root')})`;
    case 'build-disagrees':
      return `built ${alarmField(alarm, 'built-go-sum')}; sumdb ${alarmField(alarm, 'recorded-go-sum')}`;
    case 'tag-without-toolchain':
      return `${alarmField(alarm, 'ref')} first seen ${alarmField(alarm, 'first-seen')} (tag record ${alarmField(alarm, 'tag-index')})`;
  }
}

export function toolchainAlarmTitle(alarm: ToolchainAlarm): string {
  return ALARM_TITLE[alarm.kind](alarm);
}

function counts(release: ToolchainRelease): { published: number; built: number; equal: number; pending: number } {
  const built = release.targets.filter((t) => t.build && t.build.status !== 'failed').length;
  const equal = release.targets.filter((t) => t.build?.status === 'equal').length;
  return { published: release.targets.length, built, equal, pending: release.targets.length - built };
}

export function renderToolchains(ctx: SiteContext, toolchains: ToolchainsModel): string {
  const alarms =
    toolchains.alarms.length > 0
      ? html`<section class="alarms" id="alarms" role="alert">
<h2>⚠ ${toolchains.alarms.length} toolchain alarm${toolchains.alarms.length === 1 ? '' : 's'}</h2>
<ol>${toolchains.alarms.map(
          ({ index, alarm }) => html`<li data-alarm="${alarm.kind}" id="r-${index}"><span class="kind">${alarm.kind}</span><strong>${toolchainAlarmTitle(alarm)}</strong>
<span class="muted small">log index ${index}, ${alarm.time}</span><br /><span class="small">${alarmDetail(alarm)}</span></li>`,
        )}</ol>
</section>`
      : html`<div class="allclear" id="alarms"><strong>✓ No toolchain alarms.</strong> Every toolchain the checksum database published has a tag, no module version was published twice, no build disagrees with its record.</div>`;
  const rows = toolchains.releases.map((release) => {
    const c = counts(release);
    const page = parseGoVersion(release.goVersion) && ctx.model.releases.some((r) => r.version === release.goVersion);
    return html`<tr id="v-${release.goVersion}"><th scope="row">${page ? html`<a href="${href(['releases', `${release.goVersion}.html`])}">${release.goVersion}</a>` : release.goVersion}${release.reproducible ? '' : html` <span class="muted small">not reproducible by distpack</span>`}${release.tagged ? '' : html` <span class="badge s-unequal">no tag</span>`}</th>
<td>${c.published}</td><td>${c.built}</td><td>${c.equal}</td><td>${release.reproducible ? c.pending : '—'}</td><td>${release.alarms.length ? html`<a href="#alarms">${release.alarms.length}</a>` : '0'}</td></tr>`;
  });
  const details = toolchains.releases.map(
    (release) => html`<details><summary>${release.goVersion}: ${release.targets.length} target${release.targets.length === 1 ? '' : 's'}</summary>
<table><thead><tr><th>target</th><th>sumdb record</th><th>module zip h1</th><th>log index</th><th>build</th></tr></thead><tbody>${release.targets.map(
      (t) => html`<tr><td>${t.target}</td><td>${t.toolchain.toolchain.record}</td><td class="mono small">${t.toolchain.toolchain.goSum[0].split(' ')[2]}</td><td>${t.toolchain.index}</td><td>${t.build ? badge(t.build.status as BuildStatus, href(['releases', `${release.goVersion}.html`], `b-${t.build.index}`)) : badge('none')}</td></tr>`,
    )}</tbody></table></details>`,
  );
  const body = html`<h1>Toolchains in the checksum database</h1>
<p>Every <code>golang.org/toolchain</code> record that <code>witness sumdb scan</code> read from the Go checksum database (${toolchains.toolchains} record${toolchains.toolchains === 1 ? '' : 's'}), each authenticated against a signed tree head, by release. Pending: published targets with no build record yet.</p>
${toolchains.scans.map(
  ({ index, scan }) =>
    html`<p class="small" data-scan="${index}">Scanned ${scan.database.split('+')[0]!}: records ${scan.start} to ${scan.position - 1n} of the signed tree of size ${scan.treeSize} (root <span class="mono">${scan.treeRoot}</span>), as of ${scan.time} (log index ${index}).</p>`,
)}
${alarms}
<table><thead><tr><th scope="col">release</th><th scope="col">published</th><th scope="col">built</th><th scope="col">equal</th><th scope="col">pending</th><th scope="col">alarms</th></tr></thead>
<tbody>${rows}</tbody></table>
${details}
<p class="small">${toolchains.toolchains > 0 || toolchains.alarms.length > 0 ? html`<a href="toolchains.txt">toolchains.txt</a> · ` : ''}<a href="api/toolchains.json">api/toolchains.json</a></p>`;
  return page(ctx, { title: 'Toolchains in the checksum database', depth: 0, current: 'toolchains', body });
}

export function toolchainsApi(ctx: SiteContext, toolchains: ToolchainsModel): unknown {
  const n = (value: bigint) => Number(value);
  const alarmJson = ({ index, alarm }: IndexedAlarm) => ({
    index: n(index),
    kind: alarm.kind,
    title: toolchainAlarmTitle(alarm),
    fields: Object.fromEntries(alarm.fields.reduce((map, f) => map.set(f.key, [...(map.get(f.key) ?? []), f.value]), new Map<string, string[]>())),
    time: alarm.time,
  });
  return {
    schema: 'go-source-witness/api/v1',
    origin: ctx.model.origin,
    checkpoint: { size: n(ctx.checkpoint.size), rootHash: ctx.checkpoint.rootHash },
    alarms: toolchains.alarms.map(alarmJson),
    scans: toolchains.scans.map(({ index, scan }) => ({
      index: n(index),
      database: scan.database,
      start: n(scan.start),
      position: n(scan.position),
      treeSize: n(scan.treeSize),
      treeRoot: scan.treeRoot,
      moduleIndex: `sha256:${scan.moduleIndex}`,
      time: scan.time,
    })),
    releases: toolchains.releases.map((release) => ({
      version: release.goVersion,
      reproducible: release.reproducible,
      tagged: release.tagged,
      counts: counts(release),
      alarms: release.alarms.map(({ index }) => n(index)),
      targets: release.targets.map((t) => ({
        target: t.target,
        moduleVersion: t.toolchain.toolchain.moduleVersion,
        record: n(t.toolchain.toolchain.record),
        goSum: t.toolchain.toolchain.goSum,
        treeSize: n(t.toolchain.toolchain.treeSize),
        index: n(t.toolchain.index),
        build: t.build ? { index: n(t.build.index), status: t.build.status } : null,
      })),
    })),
    page: '../toolchains.html',
  };
}

/** One feed entry per toolchain alarm (feed.ts adds them to the others). */
export function toolchainFeedEntries(origin: string, toolchains: ToolchainsModel): FeedEntry[] {
  return toolchains.alarms.map(({ index, alarm }) => ({
    id: feedId(origin, index),
    index,
    title: `ALARM: ${toolchainAlarmTitle(alarm)}`,
    updated: alarm.time,
    link: `toolchains.html#r-${index}`,
    summary: `${alarmDetail(alarm)} (log index ${index})`,
    alarm: true,
    category: 'alarm',
  }));
}
