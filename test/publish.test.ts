// `witness publish`: the static site of a log. A test log holds every kind of record and every alarm
// (a moved and a vanished tag, builds that are equal, unequal, unchecked and failed, two builds of one
// target that differ, cosigned heads and a split view, tag names and values carrying HTML payloads); the
// committed witness-log/ is published too. Checked: the verdict table cell by cell, the alarms, escaping
// (every page is well-formed XML, payloads only as text), the Atom feed, the JSON, determinism, that
// the site is the log (`witness verify`/`compare --log http://.../sub/`), every relative link resolving
// from a sub-path, refusals, and rendering in headless Chromium (skipped when it is not installed).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { type BuildRecord, buildRecordToLogRecord } from '../src/rebuild/record.js';
import { cosignedRecord, evidenceRecord } from '../src/cosign/records.js';
import { EMBEDDED_LOG_VERIFIER_KEY } from '../src/embedded.js';
import { WitnessLog } from '../src/log/log.js';
import type { LogRecord } from '../src/log/record.js';
import { escapeHtml, href, html } from '../src/publish/html.js';
import { SITE_MARKER_FILE, publishSite } from '../src/publish/site.js';
import { parseCheckpoint, formatCheckpoint } from '../src/tlog/checkpoint.js';
import { signNote } from '../src/tlog/note.js';
import { noteSigner } from '../src/tlog-node/signer.js';
import { type TagRecord, tagRecordToLogRecord } from '../src/tags/record.js';
import { chromiumMissing, dumpDom, screenshot } from './helpers/chromium.js';
import { ROOT, flipByte, git, runWitness, tempDir, testRecords, testSignerKey } from './helpers/fixtures.js';
import { runWitnessAsync } from './helpers/tag-repo.js';

const KEY = testSignerKey('example.com/publish-log', 31);
const SUMDB_KEY = testSignerKey('sumdb.test.example', 32);
const COSIGNER_KEY = testSignerKey('witness.test.example/w', 33);
const REPOSITORY = 'https://go.googlesource.com/go';
const IMG_TAG = 'go1.21.0<img/src=x/onerror=alert(1)>';
const SCRIPT_TAG = `x"'&<script>alert(1)</script>`;
const EVIL_REPOSITORY = 'https://example.com/"><script>alert(2)</script>';
const EVIL_ORIGIN = 'sumdb.example/<script>alert(3)</script>';
const SUMDB_ORIGIN = 'go.sum database tree';
/** Substrings that must never appear as markup in a page. */
const PAYLOAD_MARKUP = ['<img', '<script', '<b>', '<i>'];

const hex = (seed: string, length = 40) => createHash('sha256').update(seed).digest('hex').slice(0, length);
const h1 = (seed: string) => `h1:${createHash('sha256').update(seed).digest('base64')}`;
const time = (minute: number) => new Date(Date.UTC(2024, 1, 1, 10, minute)).toISOString().replace('.000Z', 'Z');

function tag(event: TagRecord['event'], name: string, minute: number, options: { previous?: bigint; seed?: string; repository?: string } = {}): LogRecord {
  const seed = options.seed ?? name;
  const commit = hex(`commit ${seed}`);
  return tagRecordToLogRecord({
    event,
    ref: `refs/tags/${name}`,
    ...(event === 'vanished' ? {} : { pointer: { object: commit, objectType: 'commit', target: commit, targetType: 'commit', tree: hex(`tree ${seed}`) } }),
    ...(options.previous !== undefined ? { previous: options.previous } : {}),
    repository: options.repository ?? REPOSITORY,
    firstSeen: time(minute),
  });
}

type Kind = 'equal' | 'unequal' | 'unchecked' | 'failed';

function buildLogContent(version: string, target: string, salt: string): string {
  return `build log of ${version} ${target} (${salt})\n<script>alert("log")</script>\n`;
}

function build(kind: Kind, version: string, target: string, tagIndex: bigint, minute: number, options: { salt?: string; env?: string[]; tagSeed?: string } = {}): LogRecord {
  const salt = options.salt ?? 'a';
  const [goos, goarch] = target.split('/') as [string, string];
  const platform = `${goos}-${goarch}`;
  const module = `v0.0.1-${version}.${platform}`;
  const archive = `${version}.${platform}.tar.gz`;
  const seed = options.tagSeed ?? version;
  const log = buildLogContent(version, target, salt);
  const common = {
    version,
    target,
    env: options.env ?? [],
    tagIndex,
    commit: hex(`commit ${seed}`),
    tree: hex(`tree ${seed}`),
    result: hex(`result ${version} ${target} ${salt}`, 64),
    builder: 'go-source-witness/0.1.0 node/v20.20.2 linux/amd64',
    bootstrap: [
      { version: 'go1.20.14', hash: h1('boot 1.20'), commit: hex('commit go1.20.14'), tree: hex('tree go1.20.14') },
      { version: 'go1.17.13', hash: h1('boot 1.17') },
    ],
    started: time(minute - 30),
    seconds: 1234,
    buildLog: { sha256: createHash('sha256').update(log).digest('hex'), size: Buffer.byteLength(log) },
    evidence: [{ source: 'sumdb' as const, detail: `sum.golang.org record for golang.org/toolchain@${module} <i>at tree size 123</i>` }],
    ingested: time(minute),
  };
  let record: BuildRecord;
  if (kind === 'failed') {
    record = { ...common, outcome: 'failed', failure: 'make.bash: exit status 2 <script>alert("fail")</script>', verdicts: [], evidence: [] };
  } else {
    const status = kind === 'unequal' ? 'unequal' : kind;
    record = {
      ...common,
      outcome: 'built',
      sourceCheck: { equal: true, files: 14000, problems: 0 },
      files: [
        { name: `${version}.src.tar.gz`, size: 28_000_000, sha256: hex(`src ${version}`, 64) },
        { name: archive, size: 66_000_000, sha256: hex(`archive ${version} ${target} ${salt}`, 64) },
        { name: `${module}.zip`, size: 70_000_000, sha256: hex(`zip ${version} ${target} ${salt}`, 64) },
      ],
      goSum: [`golang.org/toolchain ${module} ${h1(`zip ${version} ${target} ${salt}`)}`, `golang.org/toolchain ${module}/go.mod ${h1(`mod ${module}`)}`],
      verdicts: [
        { file: archive, status, source: 'go.dev', detail: kind === 'unequal' ? `sha256 ${hex('published', 64)} from https://go.dev/dl/ <b>differs</b>` : `sha256 from https://go.dev/dl/?mode=json&include=all` },
        { file: `${module}.zip`, status: kind === 'unequal' ? 'equal' : status, source: 'sumdb', detail: `${h1(`zip ${version} ${target} ${salt}`)} from sum.golang.org` },
      ],
    };
  }
  return buildRecordToLogRecord(record);
}

function cosignedNote(origin: string, size: number, salt = 'a'): string {
  const text = formatCheckpoint({ origin, size: BigInt(size), rootHash: createHash('sha256').update(`${origin} ${size} ${salt}`).digest(), extensions: [] });
  return signNote(text, [noteSigner(SUMDB_KEY.signerKey), noteSigner(COSIGNER_KEY.signerKey)]);
}

function cosigned(origin: string, size: number, minute: number, previousSize?: number): LogRecord {
  const note = cosignedNote(origin, size);
  const checkpoint = parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1));
  return cosignedRecord({ origin, checkpoint, note }, { ...(previousSize !== undefined ? { previousSize: BigInt(previousSize) } : {}), source: 'https://sum.golang.org', time: new Date(time(minute)) });
}

/**
 * The test log. Indexes: 0 go1.21.0, 1 go1.21.1, 2 go1.22.0 (moved at 7), 3 IMG_TAG, 4 SCRIPT_TAG (evil
 * repository URL), 5 weekly (vanished at 8), 6 go1.20, 9..16 builds, 17..19 cosigned, 20 evidence, 21 test.
 */
async function makeTestLog(): Promise<string> {
  const dir = path.join(tempDir('witness-publish-'), 'log');
  const { log } = await WitnessLog.init(dir, KEY.signerKey);
  const records: LogRecord[] = [
    tag('new', 'go1.21.0', 1), // 0
    tag('new', 'go1.21.1', 2), // 1
    tag('new', 'go1.22.0', 3), // 2
    tag('new', IMG_TAG, 4), // 3
    tag('new', SCRIPT_TAG, 5, { repository: EVIL_REPOSITORY }), // 4
    tag('new', 'weekly.2009-11-06', 6), // 5
    tag('new', 'go1.20', 7), // 6
    tag('moved', 'go1.22.0', 8, { previous: 2n, seed: 'go1.22.0 moved' }), // 7
    tag('vanished', 'weekly.2009-11-06', 9, { previous: 5n }), // 8
    build('equal', 'go1.21.0', 'linux/amd64', 0n, 40), // 9
    build('unequal', 'go1.21.0', 'linux/arm64', 0n, 41), // 10
    build('unchecked', 'go1.21.1', 'linux/amd64', 1n, 42), // 11
    build('failed', 'go1.21.1', 'darwin/arm64', 1n, 43), // 12
    build('equal', 'go1.21.1', 'linux/arm', 1n, 44, { env: ['GOARM=6'] }), // 13
    build('unchecked', 'go1.22.0', 'linux/amd64', 7n, 45, { tagSeed: 'go1.22.0 moved' }), // 14
    build('unchecked', 'go1.22.0', 'linux/amd64', 7n, 46, { tagSeed: 'go1.22.0 moved', salt: 'b' }), // 15: differs from 14
    build('equal', 'go1.21.0', 'linux/amd64', 0n, 47), // 16: same files as 9, reproducible
    cosigned(SUMDB_ORIGIN, 1000, 50), // 17
    cosigned(SUMDB_ORIGIN, 2000, 51, 1000), // 18
    cosigned(EVIL_ORIGIN, 5, 52), // 19
    evidenceRecord(
      {
        origin: SUMDB_ORIGIN,
        reason: 'the presented checkpoint of size 1500 is not consistent with the cosigned size 2000 <script>alert(4)</script>',
        cosigned: cosignedNote(SUMDB_ORIGIN, 2000),
        presented: cosignedNote(SUMDB_ORIGIN, 1500, 'fork'),
        proof: [createHash('sha256').update('proof').digest('base64')],
        tiles: { 'tile/0/000.p/5': 'AA==' },
      },
      { source: 'https://sum.golang.org', time: new Date(time(53)) },
    ), // 20
    ...testRecords(1), // 21: a record type the site does not know
  ];
  await log.append(records.slice(0, 9), KEY.signerKey);
  await log.append(records.slice(9), KEY.signerKey);
  // The build log of index 9 (and 16), content-addressed as ingest keeps them; committed.
  const content = buildLogContent('go1.21.0', 'linux/amd64', 'a');
  mkdirSync(path.join(dir, 'build-logs'), { recursive: true });
  writeFileSync(path.join(dir, 'build-logs', `${createHash('sha256').update(content).digest('hex')}.log`), content);
  git(dir, 'add', 'build-logs');
  git(dir, 'commit', '--quiet', '-m', 'build log');
  return dir;
}

let testLog: Promise<string> | undefined;
const testLogDir = () => (testLog ??= makeTestLog());
let siteOnce: Promise<string> | undefined;
/** The test log's site, published once (the tests only read it). */
const testSite = () =>
  (siteOnce ??= (async () => {
    const out = path.join(tempDir('witness-site-'), 'sub');
    await publishSite({ logDir: await testLogDir(), outDir: out, verifierKey: KEY.vkey });
    return out;
  })());
let embeddedOnce: Promise<string> | undefined;
const embeddedSite = () =>
  (embeddedOnce ??= (async () => {
    const out = path.join(tempDir('witness-site-'), 'embedded');
    await publishSite({ logDir: path.join(ROOT, 'witness-log'), outDir: out, verifierKey: EMBEDDED_LOG_VERIFIER_KEY });
    return out;
  })());

function read(site: string, file: string): string {
  return readFileSync(path.join(site, ...file.split('/')), 'utf8');
}

function allFiles(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? allFiles(dir, relative) : [relative];
    })
    .sort();
}

const UNPAIRED = ['meta', 'link', 'br', 'hr', 'img', 'input'];

/** Every element of a page (XML-parsed, so the page must be well-formed), with its attributes and text. */
interface Element {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly text: string;
  readonly children: Element[];
}

function parsePage(markup: string): Element[] {
  const valid = XMLValidator.validate(markup, { unpairedTags: UNPAIRED });
  assert.equal(valid, true, `not well-formed: ${JSON.stringify(valid)}`);
  const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', unpairedTags: UNPAIRED, processEntities: true, htmlEntities: true, trimValues: false });
  const convert = (nodes: Array<Record<string, unknown>>): Element[] =>
    nodes.flatMap((node) => {
      const name = Object.keys(node).find((key) => key !== ':@');
      if (!name || name === '#text' || name.startsWith('?') || name === '!DOCTYPE') return [];
      const children = convert((node[name] as Array<Record<string, unknown>>) ?? []);
      const ownText = ((node[name] as Array<Record<string, unknown>>) ?? []).filter((child) => '#text' in child).map((child) => String(child['#text']));
      return [{ name, attributes: (node[':@'] as Record<string, string>) ?? {}, text: ownText.join(''), children }];
    });
  return convert(parser.parse(markup) as Array<Record<string, unknown>>);
}

function walk(elements: Element[]): Element[] {
  return elements.flatMap((element) => [element, ...walk(element.children)]);
}

function textOf(element: Element): string {
  return element.text + element.children.map(textOf).join('');
}

/** The verdict table: version -> target -> status, from the cells' data attributes and their text. */
function verdictTable(markup: string): Map<string, Map<string, { status: string; text: string }>> {
  const table = new Map<string, Map<string, { status: string; text: string }>>();
  for (const cell of walk(parsePage(markup)).filter((e) => e.name === 'td' && e.attributes['data-version'])) {
    const row = table.get(cell.attributes['data-version']!) ?? new Map();
    row.set(cell.attributes['data-target']!, { status: cell.attributes['data-status']!, text: textOf(cell).trim() });
    table.set(cell.attributes['data-version']!, row);
  }
  return table;
}

describe('publish: the test log', () => {
  test('the site holds the pages, feed, API and the log itself, byte for byte', async () => {
    const [site, logDir] = await Promise.all([testSite(), testLogDir()]);
    const files = allFiles(site);
    for (const file of ['index.html', 'tags.html', 'cosigned.html', 'feed.atom', 'api/index.json', 'api/tags.json', 'api/builds.json', 'api/cosigned.json', '.nojekyll', SITE_MARKER_FILE, 'releases/go1.21.0.html', 'releases/go1.21.1.html', 'releases/go1.22.0.html']) {
      assert.ok(files.includes(file), `${file} is missing`);
    }
    const logFiles = allFiles(logDir).filter((file) => !file.startsWith('.git'));
    for (const file of logFiles) {
      assert.ok(files.includes(file), `log file ${file} is not in the site`);
      assert.ok(readFileSync(path.join(site, file)).equals(readFileSync(path.join(logDir, file))), `${file} differs`);
    }
    assert.ok(logFiles.some((file) => file.startsWith('cosigned/')) && logFiles.some((file) => file.startsWith('build-logs/')));
    // No release page for tags that are not Go releases, and none outside releases/.
    assert.deepEqual(files.filter((f) => f.startsWith('releases/')), ['releases/go1.21.0.html', 'releases/go1.21.1.html', 'releases/go1.22.0.html']);
    assert.equal(statSync(site).mode & 0o777, 0o755);
  });

  test('index.html: the verdict table, cell by cell', async () => {
    const table = verdictTable(read(await testSite(), 'index.html'));
    assert.deepEqual([...table.keys()], ['go1.22.0', 'go1.21.1', 'go1.21.0']); // newest first; go1.20 is pre-distpack
    const cell = (version: string, target: string) => table.get(version)!.get(target)!;
    assert.deepEqual(cell('go1.21.0', 'linux/amd64'), { status: 'equal', text: '✓ equal' });
    assert.deepEqual(cell('go1.21.0', 'linux/arm64'), { status: 'unequal', text: '✗ unequal⚠' });
    assert.deepEqual(cell('go1.21.1', 'linux/amd64'), { status: 'unchecked', text: '? unchecked' });
    assert.deepEqual(cell('go1.21.1', 'darwin/arm64'), { status: 'failed', text: '! failed' });
    assert.deepEqual(cell('go1.21.1', 'linux/arm'), { status: 'equal', text: '✓ equal' });
    assert.deepEqual(cell('go1.22.0', 'linux/amd64'), { status: 'unchecked', text: '? unchecked⚠' }); // the latest of two that differ
    assert.deepEqual(cell('go1.22.0', 'windows/386'), { status: 'none', text: '—' });
    assert.deepEqual([...table.get('go1.21.0')!.keys()], ['darwin/amd64', 'darwin/arm64', 'linux/386', 'linux/amd64', 'linux/arm', 'linux/arm64', 'windows/386', 'windows/amd64']);
    // Cells link to the latest build of their target on the release page.
    assert.match(read(await testSite(), 'index.html'), /<a class="badge s-equal" href="releases\/go1\.21\.0\.html#b-16"/);
  });

  test('alarms: moved and vanished tags, an unequal build, builds that differ, a split view', async () => {
    const site = await testSite();
    const elements = walk(parsePage(read(site, 'index.html')));
    const alarms = elements.filter((e) => e.name === 'li' && e.attributes['data-alarm']);
    const kinds = alarms.map((e) => e.attributes['data-alarm']).sort();
    assert.deepEqual(kinds, ['build-not-reproducible', 'build-unequal', 'split-view', 'tag-moved', 'tag-vanished']);
    const texts = alarms.map(textOf).join('\n');
    assert.match(texts, /Tag go1\.22\.0 moved/);
    assert.match(texts, /Tag weekly\.2009-11-06 vanished/);
    assert.match(texts, /Build of go1\.21\.0 linux\/arm64 is not equal/);
    assert.match(texts, /Builds of go1\.22\.0 linux\/amd64 differ: not reproducible/);
    assert.match(texts, /Split view of go\.sum database tree/);
    // The alarms come first in the page body, before the table.
    const markup = read(site, 'index.html');
    assert.ok(markup.indexOf('id="alarms"') < markup.indexOf('id="verdicts"'));
    const api = JSON.parse(read(site, 'api/index.json')) as { alarms: Array<{ kind: string; index: number; related: number[] }> };
    assert.deepEqual(api.alarms.map((a) => `${a.kind}@${a.index}`).sort(), ['build-not-reproducible@15', 'build-unequal@10', 'split-view@20', 'tag-moved@7', 'tag-vanished@8']);
    assert.deepEqual(api.alarms.find((a) => a.kind === 'build-not-reproducible')!.related, [14]);
    // The release page marks the builds concerned; tags.html and cosigned.html carry their alarms.
    assert.match(read(site, 'releases/go1.22.0.html'), /<section class="build alarm" id="b-15"/);
    assert.match(read(site, 'tags.html'), /id="r-7"/);
    assert.match(read(site, 'cosigned.html'), /<section class="build alarm" id="r-20"/);
  });

  test('escaping: every page is well-formed, payloads from the log appear only as text', async () => {
    const site = await testSite();
    const pages = allFiles(site).filter((f) => f.endsWith('.html') && f !== 'verify.html');
    for (const page of pages) {
      const markup = read(site, page);
      parsePage(markup); // well-formed: no value broke out of its element or attribute
      for (const bad of PAYLOAD_MARKUP) assert.ok(!markup.includes(bad), `${page} contains ${bad}`);
      // No element other than our own (no script, img, iframe, object, form; no event handler attributes).
      for (const element of walk(parsePage(markup))) {
        assert.ok(!['script', 'img', 'iframe', 'object', 'embed', 'form', 'base'].includes(element.name), `${page}: <${element.name}>`);
        for (const name of Object.keys(element.attributes)) assert.ok(!name.startsWith('on'), `${page}: attribute ${name}`);
      }
    }
    const tagsPage = walk(parsePage(read(site, 'tags.html')));
    const text = tagsPage.map((e) => e.text).join('\n');
    assert.ok(text.includes(IMG_TAG) && text.includes(SCRIPT_TAG) && text.includes(EVIL_REPOSITORY), 'the payloads are shown as text');
    assert.ok(read(site, 'tags.html').includes(escapeHtml(SCRIPT_TAG)));
    const release = read(site, 'releases/go1.21.1.html');
    assert.ok(release.includes('make.bash: exit status 2 &lt;script&gt;alert(&quot;fail&quot;)&lt;/script&gt;'));
    assert.ok(read(site, 'cosigned.html').includes(escapeHtml(EVIL_ORIGIN)));
    // Every link is relative: no scheme, no leading slash, no protocol-relative URL.
    for (const page of pages) {
      for (const match of read(site, page).matchAll(/\b(?:href|src)="([^"]*)"/g)) {
        assert.doesNotMatch(match[1]!, /^(?:[a-z][a-z0-9+.-]*:|\/)/i, `${page}: ${match[1]} is not relative`);
      }
    }
    // The JSON never carries a raw "<" (safe even if a server mislabels it as HTML).
    for (const file of allFiles(site).filter((f) => f.startsWith('api/'))) assert.ok(!read(site, file).includes('<'), file);
  });

  test('pages have a CSP forbidding external loads, a viewport, and link verify.html in the header', async () => {
    const site = await testSite();
    for (const page of ['index.html', 'tags.html', 'cosigned.html', 'releases/go1.21.0.html']) {
      const elements = walk(parsePage(read(site, page)));
      const csp = elements.find((e) => e.name === 'meta' && e.attributes['http-equiv'] === 'Content-Security-Policy')?.attributes.content;
      assert.ok(csp, `${page}: no CSP`);
      assert.match(csp!, /default-src 'none'/);
      assert.doesNotMatch(csp!, /https?:|\*/);
      assert.ok(elements.some((e) => e.name === 'meta' && e.attributes.name === 'viewport'));
      const header = elements.find((e) => e.name === 'header')!;
      const links = walk([header]).filter((e) => e.name === 'a').map((e) => e.attributes.href);
      assert.ok(links.includes(page.startsWith('releases/') ? '../verify.html' : 'verify.html'), `${page}: ${links.join(' ')}`);
      // The stylesheet is inline and allowed by its hash.
      const style = elements.find((e) => e.name === 'style')!;
      const hash = createHash('sha256').update(style.text).digest('base64');
      assert.ok(csp!.includes(`'sha256-${hash}'`), `${page}: style hash not in the CSP`);
    }
  });

  test('release pages: every build with files, go.sum, verdicts, evidence, bootstrap chain, build log', async () => {
    const site = await testSite();
    const page = read(site, 'releases/go1.21.0.html');
    const sections = walk(parsePage(page)).filter((e) => e.name === 'section' && e.attributes.id?.startsWith('b-'));
    assert.deepEqual(sections.map((s) => s.attributes.id), ['b-16', 'b-10', 'b-9']);
    const b9 = textOf(sections.find((s) => s.attributes.id === 'b-9')!);
    for (const expected of [hex('commit go1.21.0'), hex('tree go1.21.0'), 'go1.21.0.linux-amd64.tar.gz', hex('archive go1.21.0 linux/amd64 a', 64), 'golang.org/toolchain v0.0.1-go1.21.0.linux-amd64/go.mod', 'go1.20.14', 'go1.17.13', 'go-source-witness/0.1.0 node/v20.20.2 linux/amd64', '1234 s (20 min 34 s)', 'sum.golang.org record for golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64 <i>at tree size 123</i>']) {
      assert.ok(b9.includes(expected), `build 9 does not show ${expected}`);
    }
    const logName = `${createHash('sha256').update(buildLogContent('go1.21.0', 'linux/amd64', 'a')).digest('hex')}.log`;
    assert.ok(page.includes(`href="../build-logs/${logName}"`));
    assert.ok(existsSync(path.join(site, 'build-logs', logName)));
    // A build whose log was not kept says so instead of linking.
    assert.match(read(site, 'releases/go1.21.1.html'), /\(not published\)/);
    assert.match(read(site, 'releases/go1.21.1.html'), /GOARM=6/);
  });

  test('tags.html and cosigned.html', async () => {
    const site = await testSite();
    const tags = walk(parsePage(read(site, 'tags.html')));
    const rows = tags.filter((e) => e.name === 'table' && e.attributes.id === 'tags').flatMap((t) => walk([t]).filter((e) => e.name === 'tr')).slice(1);
    assert.equal(rows.length, 6); // 7 tags, one vanished
    const history = textOf(tags.find((e) => e.name === 'h2' && e.attributes.id === 'history')!);
    assert.match(history, /Tags that changed/);
    assert.ok(tags.some((e) => e.name === 'tr' && e.attributes.id === 'r-2') && tags.some((e) => e.name === 'tr' && e.attributes.id === 'r-8'));
    const cosigned = read(site, 'cosigned.html');
    assert.match(cosigned, /go\.sum database tree/);
    assert.ok(cosigned.includes(`href="cosigned/${createHash('sha256').update(SUMDB_ORIGIN).digest('hex')}/checkpoint"`));
    const api = JSON.parse(read(site, 'api/cosigned.json')) as { latest: Array<{ origin: string; size: number; previousSize: number | null }>; evidence: unknown[] };
    assert.deepEqual(api.latest.map((h) => [h.origin, h.size, h.previousSize]), [[SUMDB_ORIGIN, 2000, 1000], [EVIL_ORIGIN, 5, null]]);
    assert.equal(api.evidence.length, 1);
  });

  test('feed.atom: valid Atom with required elements, stable unique ids, newest first, alarms flagged', async () => {
    const site = await testSite();
    const xml = read(site, 'feed.atom');
    assert.equal(XMLValidator.validate(xml), true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'entry' || name === 'link' }).parse(xml) as {
      feed: { '@xmlns': string; id: string; title: string; updated: string; author: { name: string }; link: Array<Record<string, string>>; entry: Array<{ id: string; title: string; updated: string; summary: { '#text': string }; link: Array<Record<string, string>>; category: Record<string, string> }> };
    };
    const { feed } = parsed;
    assert.equal(feed['@xmlns'], 'http://www.w3.org/2005/Atom');
    assert.equal(feed.id, 'urn:go-source-witness:example.com%2Fpublish-log');
    assert.ok(feed.title && feed.author.name);
    assert.match(feed.updated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // Tags 9, builds 8, the latest cosigned head of each origin 2, evidence 1; not the unknown record.
    assert.equal(feed.entry.length, 9 + 8 + 2 + 1);
    const ids = feed.entry.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const entry of feed.entry) {
      assert.match(entry.id, /^urn:go-source-witness:example\.com%2Fpublish-log:\d+$/);
      assert.ok(entry.title.length > 0);
      assert.match(entry.updated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.doesNotMatch(entry.link[0]!['@href']!, /^[a-z]+:|^\//);
    }
    const times = feed.entry.map((e) => e.updated);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.equal(feed.updated, times[0]);
    const alarms = feed.entry.filter((e) => e.category['@term'] === 'alarm').map((e) => e.id.split(':').pop());
    assert.deepEqual(alarms.sort(), ['10', '15', '20', '7', '8']);
    assert.ok(feed.entry.filter((e) => e.category['@term'] === 'alarm').every((e) => e.title.startsWith('ALARM: ')));
    assert.ok(feed.entry.some((e) => e.title === `New tag ${IMG_TAG}`), 'the payload is text in the feed');
  });

  test('api/*.json: schema, tags, builds', async () => {
    const site = await testSite();
    const index = JSON.parse(read(site, 'api/index.json')) as Record<string, any>;
    assert.equal(index.schema, 'go-source-witness/api/v1');
    assert.equal(index.origin, 'example.com/publish-log');
    assert.equal(index.checkpoint.size, 22);
    assert.equal(index.verifierKey, KEY.vkey);
    assert.deepEqual(index.releases.find((r: any) => r.version === 'go1.21.0').latest['linux/arm64'], { index: 10, status: 'unequal' });
    for (const link of Object.values(index.links as Record<string, string>)) assert.ok(existsSync(path.join(site, 'api', ...link.split('/'))), link);
    const tags = JSON.parse(read(site, 'api/tags.json')) as { schema: string; tags: Array<{ ref: string; present: boolean; records: Array<{ event: string }> }> };
    assert.equal(tags.schema, 'go-source-witness/api/v1');
    assert.equal(tags.tags.length, 7);
    assert.deepEqual(tags.tags.find((t) => t.ref === 'refs/tags/go1.22.0')!.records.map((r) => r.event), ['new', 'moved']);
    assert.equal(tags.tags.find((t) => t.ref === 'refs/tags/weekly.2009-11-06')!.present, false);
    const builds = JSON.parse(read(site, 'api/builds.json')) as { builds: Array<{ index: number; status: string; buildLog: { href: string | null } }> };
    assert.deepEqual(builds.builds.map((b) => `${b.index}:${b.status}`), ['9:equal', '10:unequal', '11:unchecked', '12:failed', '13:equal', '14:unchecked', '15:unchecked', '16:equal']);
    assert.ok(builds.builds[0]!.buildLog.href && existsSync(path.join(site, 'api', builds.builds[0]!.buildLog.href)));
    assert.equal(builds.builds[1]!.buildLog.href, null);
  });

  test('deterministic: the same log gives the same bytes; `now` only adds the generation time', async () => {
    const logDir = await testLogDir();
    const a = path.join(tempDir(), 'a');
    const b = path.join(tempDir(), 'b');
    await publishSite({ logDir, outDir: a, verifierKey: KEY.vkey });
    await publishSite({ logDir, outDir: b, verifierKey: KEY.vkey });
    const files = allFiles(a);
    assert.deepEqual(allFiles(b), files);
    for (const file of files) assert.ok(readFileSync(path.join(a, file)).equals(readFileSync(path.join(b, file))), `${file} differs between runs`);
    const c = path.join(tempDir(), 'c');
    await publishSite({ logDir, outDir: c, verifierKey: KEY.vkey, now: new Date('2030-01-02T03:04:05.678Z') });
    assert.match(read(c, 'index.html'), /on 2030-01-02T03:04:05Z/);
    assert.ok(readFileSync(path.join(c, 'feed.atom')).equals(readFileSync(path.join(a, 'feed.atom'))));
  });
});

describe('publish: the committed witness-log/', () => {
  test('430 tags, the planned releases as rows, the real builds in their cells, no alarms', async () => {
    const site = await embeddedSite();
    const table = verdictTable(read(site, 'index.html'));
    assert.ok(table.has('go1.21.0') && table.has('go1.22.0'));
    assert.ok(![...table.keys()].some((version) => /rc|beta/.test(version) || version === 'go1.20'));
    // The real builds of witness-log/, each equal to the checksum database's record (and to the published
    // zip where the proxy serves it), with evidence; every other cell empty.
    const go121 = ['aix/ppc64', 'dragonfly/amd64', 'freebsd/386', 'freebsd/amd64', 'freebsd/arm', 'freebsd/arm64', 'freebsd/riscv64', 'illumos/amd64', 'linux/386', 'linux/amd64', 'linux/arm', 'linux/arm64', 'linux/loong64', 'linux/mips', 'linux/mips64', 'linux/mips64le', 'linux/mipsle', 'linux/ppc64', 'linux/ppc64le', 'linux/riscv64', 'linux/s390x', 'netbsd/386', 'netbsd/amd64', 'netbsd/arm', 'netbsd/arm64', 'openbsd/386', 'openbsd/amd64', 'openbsd/arm', 'openbsd/arm64', 'plan9/386', 'plan9/amd64', 'plan9/arm', 'solaris/amd64', 'windows/386', 'windows/amd64', 'windows/arm', 'windows/arm64'];
    const built = new Set([...go121.map((target) => `go1.21.0 ${target}`), 'go1.21.1 linux/arm', 'go1.21.5 linux/amd64', 'go1.21.5 windows/amd64', 'go1.22.1 linux/amd64', 'go1.23.1 linux/amd64', 'go1.23.2 linux/amd64']);
    // darwin: built, not checkable here (see test/embedded-log.test.ts).
    const unchecked = new Set(['go1.21.0 darwin/amd64', 'go1.21.0 darwin/arm64']);
    const want = (name: string) => (built.has(name) ? 'equal' : unchecked.has(name) ? 'unchecked' : 'none');
    for (const [version, row] of table) for (const [target, cell] of row) assert.equal(cell.status, want(`${version} ${target}`), `${version} ${target}`);
    const cells = new Set([...table].flatMap(([version, row]) => [...row.keys()].map((target) => `${version} ${target}`)));
    for (const name of [...built, ...unchecked]) assert.ok(cells.has(name), `${name} has a cell in the grid`);
    // The release page says how complete its row is, out of the 39 ports Go published for go1.21.0.
    const ports = /<p class="small" id="ports">([^]*?)<\/p>/.exec(read(site, 'releases/go1.21.0.html'))?.[1] ?? '';
    const equal121 = [...built].filter((name) => name.startsWith('go1.21.0 ')).length;
    const unchecked121 = [...unchecked].filter((name) => name.startsWith('go1.21.0 ')).length;
    const missing = 39 - equal121 - unchecked121;
    assert.match(ports, /^Go publishes a toolchain for 39 ports of go1\.21\.0 \(<code>go tool dist list<\/code> without android, ios, js and wasip1\): /);
    assert.ok(ports.includes(`: latest builds ${equal121} equal, ${unchecked121} unchecked; `), ports);
    if (missing === 0) assert.match(ports, /; <strong>every port has a build record<\/strong>\.$/);
    else assert.equal(ports.split('not built yet: ')[1]?.replace(/\.$/, '').split(', ').length, missing, ports);
    for (const name of [...built, ...unchecked]) if (name.startsWith('go1.21.0 ')) assert.ok(!ports.split('not built yet: ')[1]?.split(/, |\./).includes(name.slice(9)), `${name} is built: ${ports}`);
    assert.match(read(site, 'releases/go1.22.1.html'), /Go publishes a toolchain for 40 ports of go1\.22\.1 [^]*?: latest builds 1 equal; not built yet: aix\/ppc64, /);
    const tags = JSON.parse(read(site, 'api/tags.json')) as { tags: unknown[] };
    assert.equal(tags.tags.length, 430);
    const index = JSON.parse(read(site, 'api/index.json')) as { alarms: unknown[]; checkpoint: { size: number; time: string | null } };
    assert.deepEqual(index.alarms, []);
    assert.equal(index.checkpoint.size, Number(readFileSync(path.join(ROOT, 'witness-log', 'checkpoint'), 'utf8').split('\n')[1]));
    assert.match(index.checkpoint.time ?? '', /^\d{4}-/);
    const rows = walk(parsePage(read(site, 'tags.html'))).filter((e) => e.name === 'table' && e.attributes.id === 'tags').flatMap((t) => walk([t]).filter((e) => e.name === 'tr'));
    assert.equal(rows.length, 431);
    assert.match(read(site, 'index.html'), /No alarms/);
    for (const file of ['checkpoint', 'log.vkey', 'tags.txt', 'tile/0/000', 'tile/entries/001.p/174']) {
      if (!existsSync(path.join(ROOT, 'witness-log', file))) continue;
      assert.ok(readFileSync(path.join(site, file)).equals(readFileSync(path.join(ROOT, 'witness-log', file))), file);
    }
  });
});

/** A static server with real content types (Chromium renders text/html only), over `root`. */
async function serveSite(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.atom': 'application/atom+xml', '.js': 'text/javascript', '.css': 'text/css', '.txt': 'text/plain; charset=utf-8' };
  const server = http.createServer((request, response) => {
    let relative = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    if (relative === '' || relative.endsWith('/')) relative += 'index.html';
    const file = path.join(root, ...relative.split('/'));
    const info = !path.relative(root, file).startsWith('..') && existsSync(file) ? statSync(file) : undefined;
    if (request.method !== 'GET' || !info?.isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('publish: the site is the log', () => {
  test('`witness verify` and `witness compare` against the site served from a sub-path', async () => {
    const [site, embedded] = await Promise.all([testSite(), embeddedSite()]);
    const server = await serveSite(path.dirname(site));
    const other = await serveSite(path.dirname(embedded));
    try {
      const base = `${server.url}sub/`;
      const embeddedBase = `${other.url}embedded/`;
      const [verified, compared, verifiedEmbedded, comparedEmbedded] = await Promise.all([
        runWitnessAsync(['verify', '--log', base, '--vkey', KEY.vkey]),
        runWitnessAsync(['compare', '-', '--log', base, '--vkey', KEY.vkey], { input: read(site, 'tags.txt') }),
        runWitnessAsync(['verify', '--log', embeddedBase]),
        runWitnessAsync(['compare', '-', '--log', embeddedBase], { input: read(embedded, 'tags.txt') }),
      ]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /OK: the log verifies\./);
      assert.equal(compared.code, 0, compared.stdout + compared.stderr);
      assert.equal(verifiedEmbedded.code, 0, verifiedEmbedded.stdout + verifiedEmbedded.stderr);
      assert.match(verifiedEmbedded.stdout, /\(pinned\)/);
      assert.equal(comparedEmbedded.code, 0, comparedEmbedded.stdout + comparedEmbedded.stderr);
      assert.match(comparedEmbedded.stdout, /SAME: all 430 tags equal the witness log\./);
    } finally {
      await Promise.all([server.close(), other.close()]);
    }
  });

  test('every relative link of every page resolves when served from a sub-path (files and #fragments)', async () => {
    const site = await testSite();
    const server = await serveSite(path.dirname(site));
    try {
      const base = new URL('sub/', server.url);
      // Our pages (verify.html comes from src/publish/verify-page.ts and may cite external specifications).
      const pages = allFiles(site).filter((f) => f.endsWith('.html') && f !== 'verify.html');
      const idsOf = new Map<string, Set<string>>();
      for (const page of pages) idsOf.set(new URL(page, base).href, new Set([...read(site, page).matchAll(/\bid="([^"]*)"/g)].map((m) => m[1]!)));
      let checked = 0;
      for (const page of pages) {
        const pageUrl = new URL(page, base);
        for (const match of read(site, page).matchAll(/\bhref="([^"]*)"/g)) {
          const raw = match[1]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>');
          const target = new URL(raw, pageUrl);
          assert.ok(target.href.startsWith(base.href), `${page}: ${raw} leaves the site`);
          const response = await fetch(target);
          assert.equal(response.status, 200, `${page}: ${raw} -> ${target.href}`);
          await response.arrayBuffer();
          if (target.hash) {
            const ids = idsOf.get(new URL(target.pathname, target).href);
            assert.ok(ids?.has(decodeURIComponent(target.hash.slice(1))), `${page}: ${raw}: no element with that id`);
          }
          checked++;
        }
      }
      assert.ok(checked > 100, `only ${checked} links`);
    } finally {
      await server.close();
    }
  });
});

describe('publish: refusals and replacing', () => {
  test('a log that does not verify is refused: exit 1, nothing written', async () => {
    const logDir = await testLogDir();
    const bad = path.join(tempDir(), 'bad-log');
    cpSync(logDir, bad, { recursive: true });
    flipByte(path.join(bad, 'tile', 'entries', '000.p', '22'), 40); // the bundle of all 22 entries
    const parent = tempDir();
    const out = path.join(parent, 'site');
    const result = runWitness(['publish', '--log', bad, '--out', out, '--vkey', KEY.vkey]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /FAILED/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(parent), []);
  });

  test('refuses a non-empty --out that is not a site (exit 2); replaces a previous site; refuses --out inside the log', async () => {
    const logDir = await testLogDir();
    const parent = tempDir();
    const out = path.join(parent, 'site');
    mkdirSync(out);
    writeFileSync(path.join(out, 'precious.txt'), 'keep me\n');
    const refused = runWitness(['publish', '--log', logDir, '--out', out, '--vkey', KEY.vkey]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /not a site written by witness publish/);
    assert.deepEqual(readdirSync(out), ['precious.txt']);

    const site = path.join(parent, 'site2');
    const first = runWitness(['publish', '--log', logDir, '--out', site, '--vkey', KEY.vkey]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Published witness log example\.com\/publish-log/);
    assert.match(first.stdout, /alarms\s+5: /);
    writeFileSync(path.join(site, 'stale.html'), 'old\n');
    const second = runWitness(['publish', '--log', logDir, '--out', site, '--vkey', KEY.vkey, '--json']);
    assert.equal(second.code, 0, second.stderr);
    const report = JSON.parse(second.stdout) as { ok: boolean; size: string; alarms: unknown[]; files: string[] };
    assert.equal(report.ok, true);
    assert.equal(report.size, '22');
    assert.equal(report.alarms.length, 5);
    assert.equal(existsSync(path.join(site, 'stale.html')), false);
    assert.deepEqual(readdirSync(parent).sort(), ['site', 'site2']); // no temporary folders left

    const inside = runWitness(['publish', '--log', logDir, '--out', path.join(logDir, 'site'), '--vkey', KEY.vkey]);
    assert.equal(inside.code, 2);
    assert.match(inside.stderr, /inside the log folder/);
  });

  test('--github: OWNER/REPO and a token are checked before anything is written', async () => {
    const logDir = await testLogDir();
    const out = path.join(tempDir(), 'site');
    const env = { ...process.env };
    delete env.GITHUB_TOKEN;
    const badRepo = runWitness(['publish', '--log', logDir, '--out', out, '--vkey', KEY.vkey, '--github', 'not-a-repo'], { env: { ...env, GITHUB_TOKEN: 'x' } });
    assert.equal(badRepo.code, 2);
    assert.match(badRepo.stderr, /is not OWNER\/REPO/);
    const noToken = runWitness(['publish', '--log', logDir, '--out', out, '--vkey', KEY.vkey, '--github', 'owner/repo'], { env });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /GITHUB_TOKEN/);
    const both = runWitness(['publish', '--log', logDir, '--out', out, '--push', 'x', '--github', 'owner/repo'], { env });
    assert.equal(both.code, 2);
    assert.equal(existsSync(out), false);
  });

  test('--push deploys the site to a branch of a git remote', async () => {
    const logDir = await testLogDir();
    const remote = path.join(tempDir(), 'remote.git');
    git(tempDir(), 'init', '--quiet', '--bare', remote);
    const out = path.join(tempDir(), 'site');
    const result = runWitness(['publish', '--log', logDir, '--out', out, '--vkey', KEY.vkey, '--push', remote, '--branch', 'gh-pages']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /deployed\s+commit [0-9a-f]{40} on gh-pages/);
    const listed = git(remote, 'ls-tree', '-r', '--name-only', 'gh-pages').split('\n').filter(Boolean).sort();
    assert.deepEqual(listed, allFiles(out));
    const again = runWitness(['publish', '--log', logDir, '--out', out, '--vkey', KEY.vkey, '--push', remote]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged/);
  });
});

describe('publish: html helpers', () => {
  test('escapeHtml, the html template and href', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    const name = '<img src=x onerror=alert(1)>';
    assert.equal(html`<td title="${name}">${name}</td>`.markup, `<td title="${escapeHtml(name)}">${escapeHtml(name)}</td>`);
    assert.equal(html`<ul>${['<a>', html`<li>${'&'}</li>`]}</ul>`.markup, '<ul>&lt;a&gt;<li>&amp;</li></ul>');
    assert.equal(html`${undefined}${false}${0}`.markup, '0');
    assert.equal(href(['..', 'releases', 'a/b?c#d".html'], 'x y'), '../releases/a%2Fb%3Fc%23d%22.html#x%20y');
  });
});

describe('publish: rendering in headless Chromium', () => {
  const missing = chromiumMissing();

  test('index.html from file:// and from an http sub-path shows the verdict table and the alarms; screenshots', { skip: missing }, async (t) => {
    const [site, embedded] = await Promise.all([testSite(), embeddedSite()]);
    const server = await serveSite(path.dirname(site));
    try {
      const [fromFile, fromHttp] = await Promise.all([dumpDom(pathToFileURL(path.join(site, 'index.html')).href), dumpDom(`${server.url}sub/index.html`)]);
      for (const [where, dom] of [['file://', fromFile], ['http sub-path', fromHttp]] as const) {
        assert.match(dom, /<table class="verdicts" id="verdicts">/, where);
        assert.match(dom, /<td class="cell" data-version="go1\.21\.0" data-target="linux\/arm64" data-status="unequal">/, where);
        assert.match(dom, /<section class="alarms" id="alarms"/, where);
        assert.doesNotMatch(dom, /<img|<script/, where);
      }
      const tagsDom = await dumpDom(`${server.url}sub/tags.html`);
      assert.ok(tagsDom.includes(escapeHtml(IMG_TAG).replaceAll('&quot;', '"').replaceAll('&#39;', "'")), 'the payload is text in the DOM');
      assert.doesNotMatch(tagsDom, /<img|<script/);
      const outDir = path.join(ROOT, 'test-output');
      mkdirSync(outDir, { recursive: true });
      const shots = [
        [pathToFileURL(path.join(site, 'index.html')).href, 'publish-test-log-index.png', 1200],
        [`${server.url}sub/releases/go1.21.1.html`, 'publish-test-log-release.png', 1200],
        [`${server.url}sub/tags.html`, 'publish-test-log-tags.png', 1200],
        [`${server.url}sub/cosigned.html`, 'publish-test-log-cosigned.png', 1200],
        [`${server.url}sub/index.html`, 'publish-test-log-index-phone.png', 390],
        [pathToFileURL(path.join(embedded, 'index.html')).href, 'publish-embedded-index.png', 1200],
      ] as const;
      const files: string[] = [];
      for (const [url, name, width] of shots) {
        const file = path.join(outDir, name);
        await screenshot(url, file, { width, height: width < 600 ? 844 : 900 }); // one at a time: complete rasters
        files.push(file);
      }
      for (const file of files) {
        const png = readFileSync(file);
        assert.ok(png.subarray(1, 4).toString() === 'PNG' && png.length > 10_000, `${file} is not a screenshot`);
        t.diagnostic(`screenshot: ${file}`);
      }
    } finally {
      await server.close();
    }
  });
});
