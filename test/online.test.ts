// Opt-in (WITNESS_ONLINE=1): the real round trip through the operator's go command and its GOPROXY.
//   1. `go mod download -json golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64` into a scratch cache: the
//      published h1 is the one sum.golang.org records (sJnPYT2i…), the embedded log's build record 430's.
//   2. Build record 430 compared with it (proxy verdicts) and with its sumdb record, proven by our client
//      through $GOPROXY/sumdb/sum.golang.org/ and again from the go command's cache.
//   3. Build record 431 (go1.21.0 linux/arm64), whose /lookup the proxy may not serve: located by leaf
//      hash near the linux/amd64 record, or unchecked with what was searched; never unequal.
//   4. Two cosign rounds of the real head (a scratch state; nothing recorded), the second proven
//      consistent with the first from tiles.
// It prints what it saw (t.diagnostic): run with --test-reporter=spec to read it.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { type BuildClaim, Comparer, claimOfRecord } from '../src/rebuild/compare.js';
import { BUILD_RECORD_TYPE, type BuildRecord, buildRecordFromLogRecord } from '../src/rebuild/record.js';
import { WitnessLog } from '../src/log/log.js';
import { parseRecord } from '../src/log/record.js';
import { GoModuleDownloader, TOOLCHAIN_MODULE } from '../src/rebuild/published.js';
import { WitnessStateStore } from '../src/cosign/state.js';
import { Witness } from '../src/cosign/witness.js';
import { runCosignRound } from '../src/cosign/round.js';
import { readGoEnvironment } from '../src/goenv.js';
import { goCacheRoute, goProxyRoute } from '../src/sumdb/routes.js';
import { cosignatureSigner, generateKeyPair, parseSignerKey } from '../src/tlog-node/signer.js';
import { noteVerifier } from '../src/tlog/note.js';
import { ROOT, tempDir } from './helpers/fixtures.js';

const ONLINE = process.env.WITNESS_ONLINE === '1';
const PUBLISHED_H1 = 'h1:sJnPYT2iSG+UDbXIDjwfgOVbLmKWLr239Dg9I2xF57Y=';

/** A build record of the embedded log (verified), as a claim, with the log's builds. */
async function claimOf(index: bigint): Promise<{ claim: BuildClaim; earlier: Array<{ index: bigint; build: BuildRecord }> }> {
  const { entries } = await (await WitnessLog.open(path.join(ROOT, 'witness-log'))).readVerifiedEntries();
  const earlier = entries
    .map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }))
    .filter(({ record }) => record.type === BUILD_RECORD_TYPE)
    .map(({ index: i, record }) => ({ index: i, build: buildRecordFromLogRecord(record) }));
  const build = earlier.find((b) => b.index === index)!.build;
  return { claim: claimOfRecord(build)!, earlier };
}

test('online: the published go1.21.0 linux/amd64 toolchain, its sumdb record and two cosigned real heads', { skip: ONLINE ? false : 'set WITNESS_ONLINE=1 (uses the go command\'s GOPROXY)', timeout: 900_000 }, async (t) => {
  const go = await readGoEnvironment(process.env.WITNESS_GO ?? 'go');
  t.diagnostic(`go command ${go.go} ${go.version}`);
  const downloader = await GoModuleDownloader.open(go);
  try {
    const started = Date.now();
    const outcome = await downloader.download(TOOLCHAIN_MODULE, 'v0.0.1-go1.21.0.linux-amd64');
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason);
    const { module } = outcome;
    t.diagnostic(`downloaded in ${((Date.now() - started) / 1000).toFixed(1)} s: zip ${module.zip.size} bytes sha256 ${module.zip.sha256} ${module.zip.h1}; ${JSON.stringify(module.sumdbChecked)}`);
    assert.equal(module.zip.h1, PUBLISHED_H1);

    const route = await goProxyRoute(go);
    t.diagnostic(`checksum database: ${route.label}`);
    const amd64 = await claimOf(430n);
    assert.equal(amd64.claim.goSum[0].split(' ')[2], PUBLISHED_H1, 'the embedded record 430 is this build');
    const comparer = new Comparer({ sumdb: route.client, sumdbLabel: route.label, goDownload: downloader });
    const result = await comparer.compare(amd64.claim, amd64.earlier);
    for (const v of result.verdicts) t.diagnostic(`430 ${v.file} ${v.source} ${v.status}: ${v.detail}`);
    for (const e of result.evidence) t.diagnostic(`430 evidence ${e.source}: ${e.detail}`);
    const status = (source: string, suffix: string) => result.verdicts.find((v) => v.source === source && v.file.endsWith(suffix))?.status;
    assert.equal(status('sumdb', '.zip'), 'equal');
    assert.equal(status('sumdb', '.mod'), 'equal');
    assert.equal(status('proxy', '.zip'), 'equal');
    assert.equal(status('proxy', '.mod'), 'equal');
    // The proxy's .info Time is its own, not cmd/distpack's: unchecked, never unequal.
    assert.notEqual(status('proxy', '.info'), 'unequal');

    const cached = goCacheRoute({ gomodcache: downloader.gomodcache, gopath: downloader.gopath });
    const fromCache = await new Comparer({ sumdb: cached.client, sumdbLabel: cached.label }).compare(amd64.claim, amd64.earlier);
    const cachedZip = fromCache.verdicts.find((v) => v.source === 'sumdb' && v.file.endsWith('.zip'))!;
    t.diagnostic(`430 from the go command's cache: ${cachedZip.status}: ${cachedZip.detail}`);
    assert.equal(cachedZip.status, 'equal');

    const arm64 = await claimOf(431n);
    const located = await comparer.compare(arm64.claim, arm64.earlier);
    for (const v of located.verdicts.filter((x) => x.source !== 'log')) t.diagnostic(`431 ${v.file} ${v.source} ${v.status}: ${v.detail}`);
    for (const e of located.evidence) t.diagnostic(`431 evidence ${e.source}: ${e.detail}`);
    assert.ok(!located.verdicts.some((v) => v.status === 'unequal'), 'never unequal');
    t.diagnostic(`sumdb client: ${route.client.stats.requests} requests, ${route.client.stats.tilesFetched} tiles fetched`);

    // Two cosign rounds of the real head through $GOPROXY/sumdb/sum.golang.org/.
    const state = await WitnessStateStore.open(path.join(tempDir('witness-online-state-'), 'state'));
    const cosigner = parseSignerKey(generateKeyPair('go-source-witness.example/online-test').signerKey);
    const witness = new Witness(state, cosignatureSigner(cosigner), [{ origin: route.client.origin, verifiers: [noteVerifier(route.client.verifierKey)] }]);
    const source = { location: route.label, latest: () => route.client.latest(), proveConsistency: (a: Parameters<typeof route.client.proveConsistency>[0], b: Parameters<typeof route.client.proveConsistency>[1]) => route.client.proveConsistency(a, b) };
    const first = await runCosignRound({ witness, sources: [source] });
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    const second = await runCosignRound({ witness, sources: [source] });
    for (const [name, round] of [['first', first], ['second', second]] as const) {
      for (const o of round.outcomes) {
        if (o.kind === 'cosigned') t.diagnostic(`cosign ${name}: size ${o.previous?.checkpoint.size ?? 'none'} -> ${o.state.checkpoint.size}`);
        else t.diagnostic(`cosign ${name}: ${JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
      }
    }
    assert.equal(first.outcomes[0]!.kind, 'cosigned');
    assert.equal(second.outcomes[0]!.kind, 'cosigned');
  } finally {
    await downloader.close();
  }
});
