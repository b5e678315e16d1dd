// Diverse double compilation on the site: the agreement records of a release (src/rebuild/agreement.ts)
// with the chains of the roots that agreed, the bootstrap toolchains of those chains (bootstrap records,
// src/rebuild/bootstrap-record.ts), and the alarms: roots that disagree, a branch head that moved.
import { AGREEMENT_RECORD_TYPE, agreementRecordFromLogRecord, groupKey, type AgreementRecord, type AgreementRoot } from '../rebuild/agreement.js';
import { BOOTSTRAP_RECORD_TYPE, bootstrapRecordFromLogRecord, type BootstrapRecord } from '../rebuild/bootstrap-record.js';
import type { LogRecord } from '../log/record.js';
import { href, html, type SafeHtml } from './html.js';
import type { Alarm } from './alarm.js';

export interface IndexedAgreement {
  readonly index: bigint;
  readonly agreement: AgreementRecord;
}

export interface IndexedBootstrap {
  readonly index: bigint;
  readonly bootstrap: BootstrapRecord;
}

/** Agreement and bootstrap records of the log, and the alarms they raise (malformed ones through `malformed`). */
export function rootRecords(
  records: ReadonlyArray<{ index: bigint; record: LogRecord }>,
  malformed: (index: bigint, record: LogRecord, error: unknown) => Alarm,
): { agreements: IndexedAgreement[]; bootstraps: IndexedBootstrap[]; alarms: Alarm[] } {
  const agreements: IndexedAgreement[] = [];
  const bootstraps: IndexedBootstrap[] = [];
  const alarms: Alarm[] = [];
  for (const { index, record } of records) {
    try {
      if (record.type === AGREEMENT_RECORD_TYPE) {
        const agreement = agreementRecordFromLogRecord(record);
        agreements.push({ index, agreement });
        if (agreement.status === 'differ') {
          alarms.push({
            kind: 'roots-disagree',
            index,
            related: agreement.roots.map((r) => r.buildIndex),
            title: `Independent bootstrap roots disagree on ${agreement.version} ${agreement.target}${agreement.env.length ? ` (${agreement.env.join(' ')})` : ''}`,
            detail: `${agreement.roots.map(rootLabel).join(', ')} built different ${agreement.differ.map((d) => `${d.name} (${d.hashes.map((h) => `build record ${h.buildIndex}: ${h.sha256 ?? 'absent'}`).join(', ')})`).join('; ')}`,
            time: agreement.ingested,
            version: agreement.version,
            target: agreement.target,
          });
        }
      } else if (record.type === BOOTSTRAP_RECORD_TYPE) {
        const bootstrap = bootstrapRecordFromLogRecord(record);
        bootstraps.push({ index, bootstrap });
        if (bootstrap.previousHead) {
          alarms.push({
            kind: 'branch-moved',
            index,
            related: [bootstrap.previousHead.index],
            title: `Branch ${bootstrap.branch} moved`,
            detail: `its head was ${bootstrap.previousHead.commit} (log index ${bootstrap.previousHead.index}), now ${bootstrap.commit}; Go 1.4 was built from C (${bootstrap.root.compiler}) at the new head, accepted with --accept-branch-head`,
            time: bootstrap.ingested,
          });
        }
      }
    } catch (error) {
      alarms.push(malformed(index, record, error));
    }
  }
  return { agreements, bootstraps, alarms };
}

export function rootLabel(root: AgreementRoot): string {
  const last = root.chain[root.chain.length - 1]!.split('=')[0]!;
  return root.kind === 'c' ? `C (${root.compiler}) -> ${last}` : `binary ${last}`;
}

/**
 * The release page's section: per target (and environment), the latest agreement record: "N independent
 * bootstrap roots agree" with each root's chain (every toolchain with its GOROOT hash and, when logged,
 * its bootstrap record), or the files on which they disagree.
 */
export function renderAgreements(version: string, agreements: readonly IndexedAgreement[], bootstraps: readonly IndexedBootstrap[]): SafeHtml {
  const latest = new Map<string, IndexedAgreement>();
  for (const item of agreements) if (item.agreement.version === version) latest.set(groupKey(item.agreement), item);
  if (latest.size === 0) return html``;
  const recordOf = new Map(bootstraps.map(({ index, bootstrap }) => [`${bootstrap.version}=${bootstrap.hash}`, index]));
  const sections = [...latest.values()].map(({ index, agreement: a }) => {
    const where = html`${a.target}${a.env.length ? html` <span class="mono small">${a.env.join(' ')}</span>` : ''}`;
    const heading =
      a.status === 'agree'
        ? html`<p class="allclear"><strong>✓ ${a.roots.length} independent bootstrap roots agree</strong> on ${where}: every distpack file is identical (<a href="${href([], `a-${index}`)}">log index ${index}</a>, ${a.ingested}).</p>`
        : html`<p class="flag">⚠ Independent bootstrap roots disagree on ${where} (<a href="${href([], `a-${index}`)}">log index ${index}</a>, ${a.ingested}): ${a.differ.map((d) => d.name).join(', ')}</p>`;
    const roots = html`<div class="scroll"><table><thead><tr><th>Root</th><th>Chain (used toolchain first) with GOROOT hashes</th><th>Build record</th></tr></thead><tbody>${a.roots.map(
      (r) =>
        html`<tr><td>${rootLabel(r)}</td><td class="mono small">${r.chain.map((word, i) => {
          const [toolchain, hash] = [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)];
          const logged = recordOf.get(word);
          return html`${i > 0 ? html` ← ` : ''}${toolchain} ${hash}${logged !== undefined ? html` <span class="muted">(bootstrap record ${logged})</span>` : ''}`;
        })}</td><td><a href="${href([], `b-${r.buildIndex}`)}">log index ${r.buildIndex}</a></td></tr>`,
    )}</tbody></table></div>`;
    const differ = a.differ.length
      ? html`<div class="scroll"><table><thead><tr><th>File</th><th>SHA-256 by build record</th></tr></thead><tbody>${a.differ.map(
          (d) => html`<tr><td class="mono">${d.name}</td><td class="mono small">${d.hashes.map((h, i) => html`${i > 0 ? html`<br />` : ''}${h.buildIndex}: ${h.sha256 ?? 'absent'}`)}</td></tr>`,
        )}</tbody></table></div>`
      : html``;
    return html`<section class="build${a.status === 'differ' ? ' alarm' : ''}" id="a-${index}" data-agreement="${a.status}">${heading}${roots}${differ}</section>`;
  });
  return html`<h2>Diverse double compilation</h2>
<p class="small">The same release built from independent bootstrap roots (a toolchain taken as is, or Go 1.4 built from C by different compilers, then 1.4 → 1.17 → 1.20 → …): a compromised root that hid itself in what it builds would make its release differ.</p>
${sections}`;
}
