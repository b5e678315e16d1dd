// The check `witness ingest` makes against the log's toolchain records (src/rebuild/ingest.ts calls it for
// each new build record): a build whose go.sum lines differ from the golang.org/toolchain record the
// checksum database published for the same module version is a build-disagrees alarm. darwin module
// zips are compared by their /go.mod line only: Google signs darwin binaries, so the zip's h1 of an
// unsigned rebuild always differs (`witness check` compares them with signatures stripped).
import { parseTarget, toolchainModuleVersion } from '../release/target.js';
import type { ToolchainLedger } from './ledger.js';
import type { ToolchainAlarm } from './record.js';

/** What the check reads of a build record (src/rebuild/record.ts BuildRecord). */
export interface BuiltModule {
  readonly version: string;
  readonly target: string;
  readonly outcome: 'built' | 'failed';
  readonly goSum?: readonly [string, string];
}

export function buildDisagreement(ledger: ToolchainLedger, buildIndex: bigint, build: BuiltModule, time: string): ToolchainAlarm | undefined {
  if (build.outcome !== 'built' || !build.goSum) return undefined;
  const target = parseTarget(build.target);
  const published = ledger.byModuleVersion.get(toolchainModuleVersion(build.version, target)) ?? [];
  for (const { index, toolchain } of published) {
    const pairs: Array<[string, string]> = [
      [build.goSum[0], toolchain.goSum[0]],
      [build.goSum[1], toolchain.goSum[1]],
    ];
    const differing = pairs.filter(([ours, theirs], i) => ours !== theirs && !(i === 0 && target.goos === 'darwin'));
    if (differing.length === 0) continue;
    const [ours, theirs] = differing[0]!;
    return {
      kind: 'build-disagrees',
      fields: [
        { key: 'version', value: build.version },
        { key: 'target', value: build.target },
        { key: 'build-index', value: String(buildIndex) },
        { key: 'toolchain-index', value: String(index) },
        { key: 'record', value: String(toolchain.record) },
        { key: 'built-go-sum', value: ours },
        { key: 'recorded-go-sum', value: theirs },
      ],
      time,
    };
  }
  return undefined;
}
