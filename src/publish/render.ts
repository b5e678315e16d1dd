// The site's HTML pages, from the SiteModel. Every value from the log goes through the `html` template
// (escaped); links are relative and built with `href` from validated names, so the site works from
// file://, from a sub-path (GitHub Pages project sites) and from the root alike.
import type { BuildStatus } from '../rebuild/record.js';
import { bytesWithHuman, secondsWithHuman } from '../format.js';
import { type HtmlValue, SafeHtml, href, html, join } from './html.js';
import { type Alarm, type AlarmKind, type CosignedHead, type IndexedBuild, type ReleaseRow, type SiteModel, latestBuild, publishedEvidence, releaseVersion, tagName } from './model.js';
import { SITE_CSS, contentSecurityPolicy } from './style.js';
import { renderAgreements } from './agreements.js';
import type { TagEntry } from '../tags/state.js';
import { formatTarget, parseGoVersion, publishedPortsOf } from '../release/target.js';

export interface SiteContext {
  readonly model: SiteModel;
  readonly verifierKey: string;
  readonly checkpoint: { readonly size: bigint; readonly rootHash: string; readonly time?: string; readonly timeSource?: string };
  /** SHA-256 (hex) of every build log published under build-logs/. */
  readonly buildLogs: ReadonlySet<string>;
  /** Shown in the footer when given (never the current time otherwise: output is deterministic). */
  readonly generated?: string;
  /** Whether verify.html was written. */
  readonly verifyPage: boolean;
}

export const CSP = contentSecurityPolicy(SITE_CSS);

type PageId = 'index' | 'tags' | 'cosigned' | 'release' | 'toolchains';

/** A relative link from a page at `depth` (0: site root, 1: releases/). */
function up(depth: number, ...segments: string[]): string {
  return href([...Array<string>(depth).fill('..'), ...segments]);
}

export function page(ctx: SiteContext, options: { title: string; depth: number; current: PageId; body: SafeHtml }): string {
  const { depth, current } = options;
  const nav = (id: PageId | 'verify' | 'feed' | 'api' | 'checkpoint', target: string, label: string) =>
    html`<a href="${up(depth, ...target.split('/'))}"${id === current ? html` aria-current="page"` : ''}>${label}</a>`;
  const document = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta http-equiv="Content-Security-Policy" content="${CSP}" />
<meta name="referrer" content="no-referrer" />
<meta name="generator" content="go-source-witness" />
<title>${options.title} · ${ctx.model.origin}</title>
<link rel="alternate" type="application/atom+xml" title="${ctx.model.origin}" href="${up(depth, 'feed.atom')}" />
<style>${styleSheet()}</style>
</head>
<body>
<header class="site"><div class="in">
<a class="brand" href="${up(depth, 'index.html')}">go-source-witness<span class="origin">${ctx.model.origin}</span></a>
<nav>${[
    nav('index', 'index.html', 'Overview'),
    nav('tags', 'tags.html', 'Tags'),
    nav('cosigned', 'cosigned.html', 'Sumdb heads'),
    nav('toolchains', 'toolchains.html', 'Toolchains'),
    nav('verify', 'verify.html', 'Verify in your browser'),
    nav('feed', 'feed.atom', 'Atom feed'),
    nav('api', 'api/index.json', 'JSON'),
    nav('checkpoint', 'checkpoint', 'Checkpoint'),
  ]}</nav>
</div></header>
<main>
${options.body}
</main>
<footer>
<p>Generated from the signed log ${ctx.model.origin} at size ${ctx.checkpoint.size}, root <span class="mono">${ctx.checkpoint.rootHash}</span>${ctx.generated ? html`, on ${ctx.generated}` : ''}.
This site is the log itself (C2SP tlog-tiles): check it with <code>witness verify --log &lt;this site's URL&gt;</code>, or <a href="${up(depth, 'verify.html')}">in your browser</a>. Verifier key: <span class="mono">${ctx.verifierKey}</span></p>
</footer>
</body>
</html>
`;
  return document.markup;
}

/** The stylesheet, a constant of this package: inserted as is (it holds no `<`, checked). */
function styleSheet(): SafeHtml {
  if (SITE_CSS.includes('<')) throw new Error('the stylesheet must not contain "<"');
  return new SafeHtml(SITE_CSS);
}

const STATUS_TEXT: Record<BuildStatus | 'none', string> = {
  equal: '✓ equal',
  unequal: '✗ unequal',
  unchecked: '? unchecked',
  failed: '! failed',
  none: '— not built',
};

export function badge(status: BuildStatus | 'none', link?: string): SafeHtml {
  const text = status === 'none' ? '—' : STATUS_TEXT[status];
  const title = STATUS_TITLES[status];
  return link === undefined
    ? html`<span class="badge s-${status}" title="${title}">${text}</span>`
    : html`<a class="badge s-${status}" href="${link}" title="${title}">${text}</a>`;
}

const STATUS_TITLES: Record<BuildStatus | 'none', string> = {
  equal: 'Built from the tag; every file compared equals the published file',
  unequal: 'Built from the tag; a file differs from the published one (or the source does not match the tag)',
  unchecked: 'Built from the tag; nothing published to compare with yet',
  failed: 'The build did not complete',
  none: 'No build recorded',
};

const LEGEND: Record<BuildStatus | 'none', string> = {
  equal: 'every file compared matches the published one',
  unequal: 'a file differs from the published one',
  unchecked: 'built; nothing published to compare with yet',
  failed: 'the build did not complete',
  none: 'not built yet',
};

function legend(): SafeHtml {
  const item = (status: BuildStatus | 'none') => html`<span class="item">${badge(status)} ${LEGEND[status]}</span>`;
  return html`<div class="legend">${(['equal', 'unequal', 'unchecked', 'failed', 'none'] as const).map(item)}</div>`;
}

const ALARM_LABEL: Record<AlarmKind, string> = {
  'tag-moved': 'tag moved',
  'tag-vanished': 'tag vanished',
  'build-unequal': 'build differs',
  'build-not-reproducible': 'not reproducible',
  'build-tag-mismatch': 'wrong source',
  'roots-disagree': 'roots disagree',
  'branch-moved': 'branch moved',
  'split-view': 'split view',
  'malformed-record': 'malformed record',
};

/** Where an alarm's record is shown, relative to the site root. */
export function alarmLink(alarm: Alarm): string[] | undefined {
  switch (alarm.kind) {
    case 'tag-moved':
    case 'tag-vanished':
      return ['tags.html', `r-${alarm.index}`];
    case 'build-unequal':
    case 'build-not-reproducible':
    case 'build-tag-mismatch':
      return alarm.version ? ['releases', `${alarm.version}.html`, `b-${alarm.index}`] : undefined;
    case 'roots-disagree':
      return alarm.version ? ['releases', `${alarm.version}.html`, `a-${alarm.index}`] : undefined;
    case 'branch-moved':
      return undefined;
    case 'split-view':
      return ['cosigned.html', `r-${alarm.index}`];
    case 'malformed-record':
      return undefined;
  }
}

function linkTo(depth: number, target: string[] | undefined, label: HtmlValue): SafeHtml {
  if (!target) return html`${label}`;
  const fragment = target[target.length - 1]!;
  const path = target.slice(0, -1);
  return html`<a href="${href([...Array<string>(depth).fill('..'), ...path], fragment)}">${label}</a>`;
}

function alarmList(alarms: readonly Alarm[], depth: number, heading: string): SafeHtml {
  if (alarms.length === 0) return html``;
  return html`<section class="alarms" id="alarms" role="alert">
<h2>⚠ ${heading}</h2>
<ol>${alarms.map(
    (alarm) => html`<li data-alarm="${alarm.kind}"><span class="kind">${ALARM_LABEL[alarm.kind]}</span><strong>${linkTo(depth, alarmLink(alarm), alarm.title)}</strong>
<span class="muted small">log index ${alarm.index}${alarm.time ? html`, ${alarm.time}` : ''}</span><br /><span class="small">${alarm.detail}</span></li>`,
  )}</ol>
</section>`;
}

function alarmsOf(model: SiteModel, version: string, target?: string): Alarm[] {
  return model.alarms.filter((a) => a.version === version && (target === undefined || a.target === target));
}

// ---------------------------------------------------------------------------------------------------
// index.html

export function renderIndex(ctx: SiteContext): string {
  const { model } = ctx;
  const counts: Record<BuildStatus, number> = { equal: 0, unequal: 0, unchecked: 0, failed: 0 };
  for (const row of model.releases) {
    for (const target of model.targets) {
      const latest = latestBuild(row, target);
      if (latest) counts[latest.status]++;
    }
  }
  const alarms =
    model.alarms.length > 0
      ? alarmList(model.alarms, 0, `${model.alarms.length} alarm${model.alarms.length === 1 ? '' : 's'}`)
      : html`<div class="allclear" id="alarms"><strong>✓ No alarms.</strong> No tag moved or vanished, no build differs from the published toolchain or from another build, no split view of a witnessed log.</div>`;
  const tagEvents = model.tags.history.length;
  const cards = html`<div class="grid">
<div class="card"><h3>Signed checkpoint</h3><div class="big">${model.size} records</div>
<div class="small">root <span class="mono hash">${ctx.checkpoint.rootHash}</span></div>
<div class="small muted">${ctx.checkpoint.time ? html`as of <time datetime="${ctx.checkpoint.time}">${ctx.checkpoint.time}</time>` : 'time unknown'}${ctx.checkpoint.timeSource ? html` (${ctx.checkpoint.timeSource})` : ''}</div>
<div class="small"><a href="checkpoint">checkpoint</a> · <a href="log.vkey">log.vkey</a> · <a href="verify.html">verify</a></div></div>
<div class="card"><h3>Tags of the Go repository</h3><div class="big">${model.tags.present.size} present</div>
<div class="small">${tagEvents} tag record${tagEvents === 1 ? '' : 's'}; ${model.alarms.filter((a) => a.kind === 'tag-moved').length} moved, ${model.alarms.filter((a) => a.kind === 'tag-vanished').length} vanished</div>
<div class="small"><a href="tags.html">all tags</a> · <a href="tags.txt">tags.txt</a></div></div>
<div class="card"><h3>Builds</h3><div class="big">${model.builds.length} recorded</div>
<div class="small">latest per release and target: ${counts.equal} equal, ${counts.unequal} unequal, ${counts.unchecked} unchecked, ${counts.failed} failed</div></div>
<div class="card"><h3>Witnessed checksum databases</h3><div class="big">${model.latestCosigned.length} log${model.latestCosigned.length === 1 ? '' : 's'}</div>
<div class="small">${model.cosigned.length} cosigned head${model.cosigned.length === 1 ? '' : 's'}, ${model.evidence.length} split view${model.evidence.length === 1 ? '' : 's'}</div>
<div class="small"><a href="cosigned.html">sumdb heads</a></div></div>
</div>`;

  const table = html`<h2 id="releases">Releases × targets</h2>
<p class="small muted">The verdict of the latest build record of each Go release (go1.21.0 and later, as tagged; and every version built) for each target. A cell links to its build.</p>
${legend()}
<div class="scroll"><table class="verdicts" id="verdicts">
<thead><tr><th class="v">Release</th>${model.targets.map((t) => html`<th class="t">${t}</th>`)}</tr></thead>
<tbody>${model.releases.length === 0 ? html`<tr><td class="v muted" colspan="${model.targets.length + 1}">No release tagged or built yet.</td></tr>` : model.releases.map((row) => releaseRow(ctx, row))}</tbody>
</table></div>`;

  const heads = html`<h2 id="sumdb">Witnessed checksum database heads</h2>
${
  model.latestCosigned.length === 0
    ? html`<p class="muted">No checksum database head cosigned yet.</p>`
    : html`<div class="scroll"><table>
<thead><tr><th>Log</th><th>Size</th><th>Root hash</th><th>Cosigned</th><th>Record</th></tr></thead>
<tbody>${model.latestCosigned.map(
        (head) => html`<tr><td class="wrap">${head.origin}</td><td>${head.size}</td><td class="mono">${head.root}</td><td>${head.time}</td><td><a href="${href(['cosigned.html'], `r-${head.index}`)}">#${head.index}</a></td></tr>`,
      )}</tbody></table></div>`
}`;

  const recent = [...model.tags.history].slice(-10).reverse();
  const tagActivity = html`<h2 id="recent-tags">Latest tag records</h2>
${
  recent.length === 0
    ? html`<p class="muted">No tag recorded yet.</p>`
    : html`<div class="scroll"><table>
<thead><tr><th>Log index</th><th>Event</th><th>Tag</th><th>Commit</th><th>First seen</th></tr></thead>
<tbody>${recent.map((entry) => html`<tr><td>${entry.index}</td><td>${eventLabel(entry)}</td><td class="wrap">${tagLink(ctx, 0, entry)}</td><td class="mono">${entry.record.pointer?.target ?? '—'}</td><td>${entry.record.firstSeen}</td></tr>`)}</tbody>
</table></div>`
}`;

  return page(ctx, {
    title: 'Overview',
    depth: 0,
    current: 'index',
    body: html`<h1>Go toolchains, rebuilt from source and witnessed</h1>
${alarms}
${cards}
${table}
${heads}
${tagActivity}`,
  });
}

function releaseRow(ctx: SiteContext, row: ReleaseRow): SafeHtml {
  const { model } = ctx;
  const releasePage = ['releases', `${row.version}.html`];
  const cells = model.targets.map((target) => {
    const latest = latestBuild(row, target);
    const flagged = alarmsOf(model, row.version, target).length > 0;
    const status: BuildStatus | 'none' = latest?.status ?? 'none';
    const link = latest ? href(releasePage, `b-${latest.index}`) : undefined;
    return html`<td class="cell" data-version="${row.version}" data-target="${target}" data-status="${status}">${badge(status, link)}${
      flagged ? html`<span class="flag" title="alarm: see the release page">⚠</span>` : ''
    }</td>`;
  });
  const flagged = alarmsOf(model, row.version).length > 0;
  return html`<tr><td class="v"><a href="${href(releasePage)}">${row.version}</a>${flagged ? html`<span class="flag" title="alarm">⚠</span>` : ''}</td>${cells}</tr>`;
}

function eventLabel(entry: TagEntry): SafeHtml {
  const event = entry.record.event;
  return event === 'moved' || event === 'vanished' ? html`<strong class="flag">${event}</strong>` : html`${event}`;
}

/** A tag name, linking to its release page when it has one. */
function tagLink(ctx: SiteContext, depth: number, entry: TagEntry): SafeHtml {
  const name = tagName(entry.record.ref);
  const version = releaseVersion(name);
  if (version && ctx.model.releases.some((row) => row.version === version)) {
    return html`<a href="${up(depth, 'releases', `${version}.html`)}">${name}</a>`;
  }
  return html`<span class="mono">${name}</span>`;
}

// ---------------------------------------------------------------------------------------------------
// releases/<version>.html

export function renderRelease(ctx: SiteContext, row: ReleaseRow): string {
  const { model } = ctx;
  const tag = row.tag;
  const tagInfo = tag
    ? html`<table class="kv">
<tr><th>Tag</th><td><span class="mono">${tag.record.ref}</span> (<a href="${href(['..', 'tags.html'], `r-${tag.index}`)}">log index ${tag.index}</a>, ${tag.record.event}, first seen ${tag.record.firstSeen})</td></tr>
<tr><th>Commit</th><td class="mono">${tag.pointer.target}</td></tr>
<tr><th>Tree</th><td class="mono">${tag.pointer.tree ?? '—'}</td></tr>
${tag.pointer.objectType === 'tag' ? html`<tr><th>Tag object</th><td class="mono">${tag.pointer.object}</td></tr>` : ''}
<tr><th>Repository</th><td>${tag.record.repository}</td></tr>
</table>`
    : html`<p class="flag">The tag refs/tags/${row.version} is not present in the witnessed repository.</p>`;
  const alarms = alarmsOf(model, row.version);
  const byTarget = model.targets
    .map((target) => ({ target, latest: latestBuild(row, target) }))
    .filter((item) => item.latest !== undefined);
  const summary =
    byTarget.length === 0
      ? html`<p class="muted">No build of ${row.version} is recorded yet.</p>`
      : html`<div class="scroll"><table><thead><tr><th>Target</th><th>Latest verdict</th><th>Builds</th></tr></thead><tbody>${byTarget.map(
          ({ target, latest }) =>
            html`<tr><td>${target}</td><td>${badge(latest!.status, href([], `b-${latest!.index}`))}</td><td>${row.builds.filter((b) => b.build.target === target).length}</td></tr>`,
        )}</tbody></table></div>`;
  // How complete the row is: the ports Go published a toolchain for, their latest verdicts, and which of
  // them have no build yet.
  const version = parseGoVersion(row.version);
  const published = version && publishedPortsOf(version)?.map(formatTarget);
  const ports = published ? portsLine(row, published) : '';
  const builds = [...row.builds].reverse().map((build) => renderBuild(ctx, build, alarms.filter((a) => a.index === build.index)));
  return page(ctx, {
    title: row.version,
    depth: 1,
    current: 'release',
    body: html`<p class="small"><a href="../index.html">Overview</a> › ${row.version}</p>
<h1>${row.version}</h1>
${alarmList(alarms, 1, `${alarms.length} alarm${alarms.length === 1 ? '' : 's'} for ${row.version}`)}
${tagInfo}
<h2>Verdicts by target</h2>
${ports}
${summary}
${renderAgreements(row.version, model.agreements, model.bootstraps)}
${row.builds.length > 0 ? html`<h2>Build records (newest first)</h2>${builds}` : ''}`,
  });
}

/** "Go publishes a toolchain for N ports of <version> (...): 30 equal, 2 unchecked; not built yet: a, b." */
function portsLine(row: ReleaseRow, published: readonly string[]): SafeHtml {
  const counts = new Map<BuildStatus, number>();
  const missing: string[] = [];
  for (const target of published) {
    const latest = latestBuild(row, target);
    if (latest) counts.set(latest.status, (counts.get(latest.status) ?? 0) + 1);
    else missing.push(target);
  }
  const order: BuildStatus[] = ['equal', 'unequal', 'unchecked', 'failed'];
  const verdicts = order.filter((status) => counts.has(status)).map((status) => `${counts.get(status)} ${status}`);
  const built = verdicts.length > 0 ? `latest builds ${verdicts.join(', ')}` : 'none built';
  return html`<p class="small" id="ports">Go publishes a toolchain for ${published.length} ports of ${row.version} (<code>go tool dist list</code> without android, ios, js and wasip1): ${built}; ${
    missing.length === 0 ? html`<strong>every port has a build record</strong>.` : html`not built yet: ${missing.join(', ')}.`
  }</p>`;
}

function renderBuild(ctx: SiteContext, item: IndexedBuild, alarms: readonly Alarm[]): SafeHtml {
  const { build, index, status } = item;
  const logPublished = ctx.buildLogs.has(build.buildLog.sha256);
  const published = publishedEvidence(build);
  const rows: SafeHtml[] = [
    html`<tr><th>Outcome</th><td>${build.outcome}${build.failure !== undefined ? html`: <strong>${build.failure}</strong>` : ''}</td></tr>`,
    html`<tr><th>Environment</th><td class="mono">GOOS/GOARCH=${build.target}${build.env.length ? html` ${build.env.join(' ')}` : ''}</td></tr>`,
    html`<tr><th>Commit</th><td class="mono">${build.commit}</td></tr>`,
    html`<tr><th>Tree</th><td class="mono">${build.tree}</td></tr>`,
    html`<tr><th>Tag record</th><td><a href="${href(['..', 'tags.html'], `r-${build.tagIndex}`)}">log index ${build.tagIndex}</a></td></tr>`,
    ...(build.sourceCheck
      ? [
          html`<tr><th>Source check</th><td>${build.sourceCheck.equal ? html`<span class="badge s-equal">✓ equal</span>` : html`<span class="badge s-unequal">✗ differs</span>`} ${build.sourceCheck.files} files compared with the tag's tree, ${build.sourceCheck.problems} problem${build.sourceCheck.problems === 1 ? '' : 's'}</td></tr>`,
        ]
      : []),
    html`<tr><th>Builder</th><td class="mono">${build.builder}</td></tr>`,
    html`<tr><th>Timing</th><td>started ${build.started}, ${secondsWithHuman(build.seconds)}; ingested ${build.ingested}</td></tr>`,
    html`<tr><th>Build log</th><td>${
      logPublished
        ? html`<a href="${href(['..', 'build-logs', `${build.buildLog.sha256}.log`])}">build-logs/${build.buildLog.sha256}.log</a>`
        : html`<span class="mono">${build.buildLog.sha256}</span> <span class="muted">(not published)</span>`
    } · ${bytesWithHuman(build.buildLog.size)}</td></tr>`,
    html`<tr><th>Result file</th><td class="mono">${build.result}</td></tr>`,
    ...(build.recheckOf !== undefined ? [html`<tr><th>Re-evaluates</th><td><a href="${href([], `b-${build.recheckOf}`)}">log index ${build.recheckOf}</a> (the same build, compared again with published evidence)</td></tr>`] : []),
    ...(published.sumdbRecord
      ? [
          html`<tr><th>Checksum database</th><td class="sumdb-record">${badge(published.sumdbRecord.status as BuildStatus)} record <strong>${published.sumdbRecord.id}</strong> in tree ${published.sumdbRecord.treeSize} <span class="mono small">${published.sumdbRecord.root}</span>${published.sumdbRecord.located ? html` <span class="muted small">(located by leaf hash)</span>` : ''}</td></tr>`,
        ]
      : []),
  ];
  const files = build.files?.length
    ? html`<h3>Files</h3><div class="scroll"><table><thead><tr><th>Name</th><th>Size</th><th>SHA-256 (ours)</th><th>Published SHA-256</th></tr></thead><tbody>${build.files.map((file) => {
        const theirs = published.files.get(file.name);
        const cell = theirs
          ? html`${badge(theirs.status as BuildStatus)} <span class="mono">${theirs.sha256}</span> <span class="muted small">${theirs.source}${theirs.size !== undefined && theirs.size !== file.size ? html`, ${theirs.size} bytes` : ''}${theirs.sha256 !== file.sha256 && theirs.status === 'equal' ? ' (equal with code signatures stripped)' : ''}</span>`
          : html`<span class="muted">—</span>`;
        return html`<tr><td class="mono">${file.name}</td><td>${bytesWithHuman(file.size)}</td><td class="mono">${file.sha256}</td><td class="published">${cell}</td></tr>`;
      })}</tbody></table></div>`
    : html``;
  const goSum = build.goSum ? html`<h3>go.sum</h3><pre>${build.goSum.join('\n')}</pre>` : html``;
  const verdicts = build.verdicts.length
    ? html`<h3>Verdicts</h3><div class="scroll"><table><thead><tr><th>File</th><th>Verdict</th><th>Source</th><th class="wrap">Detail</th></tr></thead><tbody>${build.verdicts.map(
        (v) => html`<tr><td class="mono">${v.file}</td><td>${badge(v.status)}</td><td>${v.source}</td><td class="wrap small">${v.detail}</td></tr>`,
      )}</tbody></table></div>`
    : html``;
  const evidence = build.evidence.length
    ? html`<h3>Evidence</h3><div class="scroll"><table><thead><tr><th>Source</th><th class="wrap">Detail</th></tr></thead><tbody>${build.evidence.map(
        (e) => html`<tr><td>${e.source}</td><td class="wrap small">${e.detail}</td></tr>`,
      )}</tbody></table></div>`
    : html``;
  const bootstrap = html`<h3>Bootstrap chain</h3><div class="scroll"><table><thead><tr><th>#</th><th>Toolchain</th><th>GOROOT hash</th><th>Built from commit</th><th>Tree</th></tr></thead><tbody>${build.bootstrap.map(
    (b, i) => html`<tr><td>${i + 1}${i === 0 ? html` <span class="muted small">(used)</span>` : ''}${i === build.bootstrap.length - 1 && i > 0 ? html` <span class="muted small">(root)</span>` : ''}</td><td class="mono">${b.version}${b.root === 'c' ? html` <span class="muted small">(from C: ${b.compiler}, ${b.branch})</span>` : b.root === 'binary' || (i === build.bootstrap.length - 1 && !b.commit) ? html` <span class="muted small">(binary, taken as is)</span>` : ''}</td><td class="mono">${b.hash}</td><td class="mono">${b.commit ?? '—'}</td><td class="mono">${b.tree ?? '—'}</td></tr>`,
  )}</tbody></table></div>`;
  const anchor = `b-${index}`;
  return html`<section class="build${alarms.length ? ' alarm' : ''}" id="${anchor}" data-target="${build.target}" data-status="${status}">
<h2>${badge(status)} <span>${build.target}${build.env.length ? html` <span class="mono small">${build.env.join(' ')}</span>` : ''}</span> <a class="small" href="${href([], anchor)}">log index ${index}</a></h2>
${alarms.map((a) => html`<p class="flag">⚠ ${a.title}: <span class="small">${a.detail}</span></p>`)}
<table class="kv">${rows}</table>
${files}
${goSum}
${verdicts}
${evidence}
${bootstrap}
</section>`;
}


// ---------------------------------------------------------------------------------------------------
// tags.html

export function renderTags(ctx: SiteContext): string {
  const { model } = ctx;
  const { tags } = model;
  // Refs with more than one record: moved, vanished, reappeared.
  const historyByRef = new Map<string, TagEntry[]>();
  for (const entry of tags.history) {
    const list = historyByRef.get(entry.record.ref) ?? [];
    list.push(entry);
    historyByRef.set(entry.record.ref, list);
  }
  const changed = [...historyByRef.entries()].filter(([, list]) => list.length > 1).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const tagAlarms = model.alarms.filter((a) => a.kind === 'tag-moved' || a.kind === 'tag-vanished');
  const pointerCells = (entry: TagEntry) => {
    const p = entry.record.pointer;
    if (!p) return html`<td colspan="3" class="muted">(vanished)</td>`;
    return html`<td class="mono">${p.targetType === 'commit' ? p.target : `${p.targetType} ${p.target}`}</td><td class="mono">${p.tree ?? '—'}</td><td class="mono">${p.objectType === 'tag' ? p.object : html`<span class="muted">lightweight</span>`}</td>`;
  };
  const history = changed.length
    ? html`<h2 id="history">Tags that changed</h2>
<p class="small muted">Every record of each tag that moved, vanished or reappeared, oldest first. A released tag should never change.</p>
${changed.map(
  ([ref, list]) => html`<h3 class="mono">${tagName(ref)}</h3><div class="scroll"><table><thead><tr><th>Log index</th><th>Event</th><th>Commit / target</th><th>Tree</th><th>Tag object</th><th>First seen</th><th>Repository</th></tr></thead><tbody>${list.map(
    (entry) => html`<tr id="r-${entry.index}"><td>${entry.index}</td><td>${eventLabel(entry)}</td>${pointerCells(entry)}<td>${entry.record.firstSeen}</td><td class="small">${entry.record.repository}</td></tr>`,
  )}</tbody></table></div>`,
)}`
    : html``;
  const present = [...tags.present.values()].sort((a, b) => (a.record.ref < b.record.ref ? -1 : a.record.ref > b.record.ref ? 1 : 0));
  const table = html`<h2 id="present">Present tags (${present.length})</h2>
<div class="scroll"><table id="tags">
<thead><tr><th>Tag</th><th>Commit / target</th><th>Tree</th><th>Tag object</th><th>Log index</th><th>First seen</th></tr></thead>
<tbody>${present.map((entry) => {
    const single = (historyByRef.get(entry.record.ref)?.length ?? 0) <= 1;
    return html`<tr${single ? html` id="r-${entry.index}"` : ''}><td class="wrap">${tagLink(ctx, 0, entry)}</td>${pointerCells(entry)}<td>${
      single ? entry.index : html`<a href="#r-${entry.index}">${entry.index}</a>`
    }</td><td>${entry.record.firstSeen}</td></tr>`;
  })}</tbody>
</table></div>`;
  const repositories = [...new Set(tags.history.map((e) => e.record.repository))].sort();
  return page(ctx, {
    title: 'Tags',
    depth: 0,
    current: 'tags',
    body: html`<h1>Tags of the Go repository</h1>
${alarmList(tagAlarms, 0, `${tagAlarms.length} tag alarm${tagAlarms.length === 1 ? '' : 's'}`)}
<p>${tags.present.size} tags present, ${tags.history.length} tag records. Read from ${join(repositories.map((r) => html`<span class="mono">${r}</span>`), ', ')}.
The same list in <code>git show-ref --tags</code> format: <a href="tags.txt">tags.txt</a> (compare with <code>witness compare</code>).</p>
${history}
${table}`,
  });
}

// ---------------------------------------------------------------------------------------------------
// cosigned.html

export function renderCosigned(ctx: SiteContext): string {
  const { model } = ctx;
  const origins = model.latestCosigned.map((head) => head.origin);
  const byOrigin = (origin: string) => model.cosigned.filter((head) => head.origin === origin).reverse();
  const headRow = (head: CosignedHead) =>
    html`<tr id="r-${head.index}"><td>${head.index}</td><td>${head.size}</td><td class="mono">${head.root}</td><td>${head.previousSize !== undefined ? html`consistent with size ${head.previousSize}` : html`<span class="muted">first use</span>`}</td><td>${head.time}</td><td class="wrap small">${head.source}</td></tr>`;
  const sections = origins.map((origin) => {
    const latest = model.latestCosigned.find((head) => head.origin === origin)!;
    return html`<h2>${origin}</h2>
<table class="kv">
<tr><th>Latest cosigned size</th><td>${latest.size}</td></tr>
<tr><th>Root hash</th><td class="mono">${latest.root}</td></tr>
<tr><th>Cosigned</th><td>${latest.time} (log index ${latest.index})</td></tr>
<tr><th>Log signatures</th><td class="mono">${join(latest.logSignatures, html`<br />`)}</td></tr>
<tr><th>Our cosignature</th><td class="mono">${latest.cosignature}</td></tr>
<tr><th>Cosigned note</th><td><a href="${href(latest.path.split('/'))}">${latest.path}</a> <span class="muted small">(c2sp.org/tlog-witness monitoring path)</span></td></tr>
</table>
<h3>Every cosigned head (newest first)</h3>
<div class="scroll"><table><thead><tr><th>Log index</th><th>Size</th><th>Root hash</th><th>Checked</th><th>Time</th><th>Source</th></tr></thead>
<tbody>${byOrigin(origin).map(headRow)}</tbody></table></div>`;
  });
  const evidence = model.evidence.length
    ? html`<h2 id="evidence">Split views (evidence)</h2>
<p class="small muted">Two signed checkpoints of one log that cannot both be true. The log showed different histories to different clients.</p>
${[...model.evidence].reverse().map(
  (e) => html`<section class="build alarm" id="r-${e.index}"><h2>${e.origin} <span class="small muted">log index ${e.index}, ${e.time}</span></h2>
<table class="kv">
<tr><th>Reason</th><td>${e.reason}</td></tr>
<tr><th>Source</th><td>${e.source}</td></tr>
<tr><th>Proof</th><td class="mono">${e.proof.length ? join(e.proof, html`<br />`) : '—'}</td></tr>
<tr><th>Tiles</th><td class="mono">${e.tiles.length ? join(e.tiles, html`<br />`) : '—'}</td></tr>
</table>
<h3>The checkpoint we had cosigned</h3><pre>${e.cosignedNote}</pre>
<h3>The conflicting checkpoint presented</h3><pre>${e.presentedNote}</pre>
</section>`,
)}`
    : html``;
  const alarms = model.alarms.filter((a) => a.kind === 'split-view');
  return page(ctx, {
    title: 'Checksum database heads',
    depth: 0,
    current: 'cosigned',
    body: html`<h1>Witnessed checksum database heads</h1>
${alarmList(alarms, 0, `${alarms.length} split view${alarms.length === 1 ? '' : 's'}`)}
<p>Checkpoints of other logs (such as sum.golang.org) that this witness verified as consistent with everything it saw before, and cosigned.</p>
${origins.length === 0 ? html`<p class="muted">No checksum database head cosigned yet.</p>` : sections}
${evidence}`,
  });
}
