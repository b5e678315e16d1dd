// Comparing one build with everything it can be compared with, for `witness ingest` (new results and
// `--recheck` of recorded builds):
//
//   proxy   Google's published module zip, .mod and .info, downloaded by the go command (published.ts):
//           byte for byte (SHA-256 and size), darwin zips by h1 with code signatures stripped
//   sumdb   the module's record in the checksum database, proven by our client (src/sumdb/): /lookup
//           with its inclusion proof, or, where /lookup does not find it, located by its leaf hash in
//           authenticated hash tiles near the release's linux/amd64 record (src/sumdb/locate.ts)
//   go.dev  the go.dev/dl listing's SHA-256 of the source tarball and the archive
//   log     earlier builds of the same release in this log (reproducibility)
//
// Verdicts are equal / unequal / unchecked; nothing unverified becomes equal, and a record that could
// not be found is unchecked with what was searched, never unequal.
import { VerificationError, WitnessError } from '../errors.js';
import { printableLine } from '../infra/text.js';
import type { SumdbClient } from '../sumdb/client.js';
import { DEFAULT_LOCATE_WINDOW, locateRecord, toolchainRecordText } from '../sumdb/locate.js';
import { encodeBase64 } from '../tlog/encoding.js';
import { lookupToolchainModule, sumdbRecordDetail, type PublishedListing, type SumdbExpectation } from './expected.js';
import { comparePublishedModule, type DownloadOutcome, type ModuleClaim, type PublishedModule, TOOLCHAIN_MODULE } from './published.js';
import type { BuildRecord, Evidence, Verdict } from './record.js';
import { distpackFileNames, parseTarget, publishedArchiveName, toolchainModuleVersion } from '../release/target.js';

/** Where published modules come from (GoModuleDownloader, or a test's stand-in with the same contract). */
export interface PublishedModuleSource {
  download(modulePath: string, version: string): Promise<DownloadOutcome>;
}

export interface ComparisonSources {
  /** The checksum database to compare with; undefined: not consulted (verdicts say so). */
  readonly sumdb?: SumdbClient;
  /** How evidence lines name that database (default: its URL). */
  readonly sumdbLabel?: string;
  /** Why sumdb is not consulted, when it is not (e.g. "offline"). */
  readonly sumdbSkipped?: string;
  /** Records either side of the release's linux/amd64 record searched by leaf hash when /lookup does not find one (0: never). */
  readonly locateWindow?: number;
  /** The published module, through the go command; undefined: not consulted. */
  readonly goDownload?: PublishedModuleSource;
  readonly published?: PublishedListing;
  /** Makes a message fit for a record (e.g. replaces GOPROXY URLs); applied to every reason. */
  readonly redact?: (text: string) => string;
}

/** What a build says it made: from a build result (new) or a build record (recheck). */
export interface BuildClaim extends ModuleClaim {
  readonly env: readonly string[];
  /** The build result's SHA-256. */
  readonly result: string;
}

export function claimOfRecord(build: BuildRecord): BuildClaim | undefined {
  if (build.outcome !== 'built' || !build.files || !build.goSum) return undefined;
  return { version: build.version, target: build.target, env: build.env, files: build.files, goSum: build.goSum, result: build.result, ...(build.strippedH1 ? { strippedH1: build.strippedH1 } : {}) };
}

const SIGNED_NOTE = 'Google signs darwin binaries, so its files differ from an unsigned rebuild; witness check compares them with signatures stripped';

type Located = SumdbExpectation & { readonly located?: { readonly near: bigint; readonly nearVersion: string } };

/** Compares builds; remembers neighbour lookups across builds of one run. */
export class Comparer {
  private readonly neighbours = new Map<string, Promise<SumdbExpectation>>();

  constructor(private readonly sources: ComparisonSources) {}

  private reason(text: string): string {
    return printableLine((this.sources.redact ?? ((t: string) => t))(text), 1000);
  }

  async compare(claim: BuildClaim, earlier: ReadonlyArray<{ index: bigint; build: BuildRecord }>): Promise<{ verdicts: Verdict[]; evidence: Evidence[] }> {
    const sources = this.sources;
    const target = parseTarget(claim.target);
    const darwin = target.goos === 'darwin';
    const names = distpackFileNames(claim.version, target);
    const module = toolchainModuleVersion(claim.version, target);
    const verdicts: Verdict[] = [];
    const evidence: Evidence[] = [];
    const [ourZipLine, ourModLine] = claim.goSum;
    const ourZipH1 = ourZipLine.split(' ')[2]!;
    const ourModH1 = ourModLine.split(' ')[2]!;

    // 1. The published module, as the go command downloads it (needed first: a darwin record's text
    // holds the published, signed zip's h1, not ours).
    let download: DownloadOutcome | undefined;
    if (sources.goDownload) {
      try {
        download = await sources.goDownload.download(TOOLCHAIN_MODULE, module);
      } catch (error) {
        download = { ok: false, command: `go mod download -json ${TOOLCHAIN_MODULE}@${module}`, reason: (error as Error).message };
      }
    }
    const published = download?.ok ? download.module : undefined;

    // 2. The checksum database, verified by our client.
    let expectation: Located | undefined;
    let sumdbProblem = sources.sumdbSkipped ?? 'not consulted';
    if (sources.sumdb) {
      const label = sources.sumdbLabel ?? sources.sumdb.baseUrl.replace(/\/$/, '');
      try {
        expectation = await lookupToolchainModule(sources.sumdb, module, label);
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'ERROR';
        sumdbProblem = this.reason(`lookup failed (${code}): ${(error as Error).message}`);
        if (error instanceof VerificationError) {
          evidence.push({ source: 'sumdb', detail: this.reason(`VERIFICATION FAILED for golang.org/toolchain@${module}: ${sumdbProblem}`) });
        } else if (error instanceof WitnessError && error.code === 'NOT_FOUND' && (sources.locateWindow ?? DEFAULT_LOCATE_WINDOW) > 0) {
          const located = await this.locate(claim, module, darwin ? published?.zip.h1 : ourZipH1, ourModH1, label, download);
          if ('problem' in located) sumdbProblem = this.reason(`${sumdbProblem}; ${located.problem}`);
          else expectation = located.expectation;
        }
      }
      if (expectation) evidence.push({ source: 'sumdb', detail: expectation.evidence });
    }
    const where = (e: Located) => `${sumdbRecordDetail(e.id, e.checkpoint)}${e.located ? ' (located by leaf hash)' : ''}`;
    const theirZipH1 = expectation?.zipLine?.split(' ')[2];
    for (const [file, ours, theirs] of [
      [`${module}.zip`, ourZipLine, expectation?.zipLine],
      [`${module}.mod`, ourModLine, expectation?.modLine],
    ] as const) {
      const ourHash = ours.split(' ')[2]!;
      const theirHash = theirs?.split(' ')[2];
      if (!expectation) verdicts.push({ file, status: 'unchecked', source: 'sumdb', detail: sumdbProblem });
      else if (theirs === undefined) verdicts.push({ file, status: 'unchecked', source: 'sumdb', detail: `${where(expectation)} has no such line` });
      else if (theirs === ours) verdicts.push({ file, status: 'equal', source: 'sumdb', detail: `${where(expectation)}: ${ourHash}` });
      else if (darwin && file.endsWith('.zip')) verdicts.push(this.darwinSumdbVerdict(file, where(expectation), theirHash!, claim, published));
      else verdicts.push({ file, status: 'unequal', source: 'sumdb', detail: `${where(expectation)}: expected ${theirHash}, built ${ourHash}` });
    }

    // 3. The published module's files, byte for byte.
    if (download) {
      if (published) {
        const compared = comparePublishedModule(claim, published, theirZipH1);
        verdicts.push(...compared.verdicts);
        evidence.push(...compared.evidence);
      } else {
        const reason = this.reason(`${download.ok ? '' : download.reason}`);
        for (const suffix of ['zip', 'mod', 'info']) {
          const file = `${module}.${suffix}`;
          if (claim.files.some((f) => f.name === file)) verdicts.push({ file, status: 'unchecked', source: 'proxy', detail: reason });
        }
      }
    }

    // 4. go.dev's listing: the source tarball and the binary archive, by SHA-256.
    for (const [file, listed] of [
      [names.source, names.source],
      [names.archive, publishedArchiveName(names.archive)],
    ] as const) {
      const ours = claim.files.find((f) => f.name === file);
      if (!ours) continue;
      if (!sources.published) {
        verdicts.push({ file, status: 'unchecked', source: 'go.dev', detail: 'no published listing given' });
        continue;
      }
      const theirs = sources.published.files.get(listed);
      if (!theirs) verdicts.push({ file, status: 'unchecked', source: 'go.dev', detail: `${listed} is not in the listing` });
      else if (theirs.sha256 === ours.sha256) verdicts.push({ file, status: 'equal', source: 'go.dev', detail: `${listed} sha256:${theirs.sha256}` });
      else if (darwin && file === names.archive) verdicts.push({ file, status: 'unchecked', source: 'go.dev', detail: `differs from ${listed} sha256:${theirs.sha256}: ${SIGNED_NOTE}` });
      else verdicts.push({ file, status: 'unequal', source: 'go.dev', detail: `${listed} expected sha256:${theirs.sha256}, built ${ours.sha256}` });
    }
    if (sources.published) evidence.push({ source: 'go.dev', detail: `${sources.published.source} sha256:${sources.published.sha256}` });

    // 5. Earlier builds of the same release, target and environment in this log: reproducibility.
    verdicts.push(...reproducibility(claim, names.source, earlier));
    return { verdicts, evidence };
  }

  /**
   * darwin: the record holds the published (signed) zip's h1. It vouches for our rebuild when the
   * published zip the go command downloaded has that very h1 and, stripped, the same h1 as ours stripped.
   */
  private darwinSumdbVerdict(file: string, where: string, theirHash: string, claim: BuildClaim, published: PublishedModule | undefined): Verdict {
    const ourHash = claim.goSum[0].split(' ')[2]!;
    if (!published || published.zip.strippedH1 === undefined || claim.strippedH1 === undefined) {
      return { file, status: 'unchecked', source: 'sumdb', detail: `${where}: differs from ${theirHash}: ${SIGNED_NOTE}` };
    }
    if (published.zip.h1 !== theirHash) {
      return { file, status: 'unchecked', source: 'sumdb', detail: `${where}: holds ${theirHash}, not the h1 ${published.zip.h1} of the zip the go command downloaded: not compared` };
    }
    return published.zip.strippedH1 === claim.strippedH1
      ? { file, status: 'equal', source: 'sumdb', detail: `${where}: ${theirHash} is the published zip's (sha256:${published.zip.sha256}), whose h1 with code signatures stripped, ${published.zip.strippedH1}, is ours` }
      : { file, status: 'unequal', source: 'sumdb', detail: `${where}: ${theirHash} is the published zip's, stripped ${published.zip.strippedH1}; built ${ourHash}, stripped ${claim.strippedH1}` };
  }

  /** The record located by leaf hash near the release's linux/amd64 record, or what was searched. */
  private async locate(
    claim: BuildClaim,
    module: string,
    zipH1: string | undefined,
    modH1: string,
    label: string,
    download: DownloadOutcome | undefined,
  ): Promise<{ expectation: Located } | { problem: string }> {
    const client = this.sources.sumdb!;
    if (zipH1 === undefined) {
      const why = download && !download.ok ? download.reason : 'the go command was not asked (--go-download)';
      return { problem: `the record cannot be located by leaf hash without the published zip's h1 (Google signs darwin binaries), and the published zip was not downloaded: ${why}` };
    }
    const nearVersion = toolchainModuleVersion(claim.version, { goos: 'linux', goarch: 'amd64' });
    if (nearVersion === module) return { problem: 'no neighbour record to search around' };
    let neighbour = this.neighbours.get(nearVersion);
    if (!neighbour) {
      neighbour = lookupToolchainModule(client, nearVersion, label);
      this.neighbours.set(nearVersion, neighbour);
    }
    let near: SumdbExpectation;
    try {
      near = await neighbour;
    } catch (error) {
      return { problem: `no neighbour record to search around: lookup of golang.org/toolchain@${nearVersion} failed (${(error as { code?: string }).code ?? 'ERROR'}): ${(error as Error).message}` };
    }
    const text = toolchainRecordText(module, zipH1, modH1);
    let result;
    try {
      result = await locateRecord(client, near.checkpoint, text, { near: near.id, window: this.sources.locateWindow ?? DEFAULT_LOCATE_WINDOW });
    } catch (error) {
      return { problem: `locating it by leaf hash failed (${(error as { code?: string }).code ?? 'ERROR'}): ${(error as Error).message}` };
    }
    const tree = `tree ${result.checkpoint.checkpoint.size} ${encodeBase64(result.checkpoint.checkpoint.rootHash)}`;
    if (!result.found) {
      return {
        problem: `located by leaf hash: ${encodeBase64(result.leafHash)} (the record text with ${zipH1}) is not among records ${result.from}..${result.to - 1n} of ${tree}, ${result.tilesSearched} authenticated hash tiles around golang.org/toolchain@${nearVersion} (record ${near.id}); absence in a window proves nothing`,
      };
    }
    const lines = text.split('\n');
    return {
      expectation: {
        zipLine: lines[0]!,
        modLine: lines[1]!,
        id: result.index,
        checkpoint: result.checkpoint,
        evidence: `${label} ${sumdbRecordDetail(result.index, result.checkpoint)}: located by leaf hash ${encodeBase64(result.leafHash)} in authenticated hash tiles near golang.org/toolchain@${nearVersion} (record ${near.id}), inclusion proof verified`,
        located: { near: near.id, nearVersion },
      },
    };
  }
}

function reproducibility(claim: BuildClaim, sourceName: string, earlier: ReadonlyArray<{ index: bigint; build: BuildRecord }>): Verdict[] {
  const verdicts: Verdict[] = [];
  const env = claim.env.join(' ');
  const same = earlier.filter(({ build }) => build.outcome === 'built' && build.version === claim.version && build.target === claim.target && build.env.join(' ') === env);
  const byResult = new Map<string, { index: bigint; build: BuildRecord }>();
  // Records of this very result say nothing about reproducibility.
  for (const entry of same) if (entry.build.result !== claim.result && !byResult.has(entry.build.result)) byResult.set(entry.build.result, entry);
  for (const { index, build } of byResult.values()) {
    for (const file of claim.files) {
      const theirs = build.files?.find((f) => f.name === file.name);
      if (!theirs) continue;
      verdicts.push(
        theirs.sha256 === file.sha256
          ? { file: file.name, status: 'equal', source: 'log', detail: `build record ${index}` }
          : { file: file.name, status: 'unequal', source: 'log', detail: `build record ${index} (sha256 ${theirs.sha256}, now ${file.sha256})` },
      );
    }
  }
  // The source tarball does not depend on the target: every build of the release must have made the same one.
  const sourceFile = claim.files.find((f) => f.name === sourceName);
  const otherTargets = new Map<string, { index: bigint; build: BuildRecord }>();
  for (const entry of earlier) {
    const { build } = entry;
    if (build.outcome !== 'built' || build.version !== claim.version || build.result === claim.result || (build.target === claim.target && build.env.join(' ') === env)) continue;
    const key = build.files?.find((f) => f.name === sourceName)?.sha256;
    if (key !== undefined && !otherTargets.has(key)) otherTargets.set(key, entry);
  }
  if (sourceFile) {
    for (const [sha256, { index, build }] of otherTargets) {
      verdicts.push(
        sha256 === sourceFile.sha256
          ? { file: sourceFile.name, status: 'equal', source: 'log', detail: `build record ${index} (${build.target})` }
          : { file: sourceFile.name, status: 'unequal', source: 'log', detail: `build record ${index} (${build.target}) has sha256 ${sha256}, now ${sourceFile.sha256}` },
      );
    }
  }
  return verdicts;
}
