import type { Argv, CommandModule } from 'yargs';
import { printJson, printLines, setExitCode } from '../output.js';

interface CheckArgs {
  files?: string[];
  gomodcache?: string | boolean;
  download?: string[];
  downloadInto?: string;
  go?: string;
  log?: string;
  vkey?: string;
  json: boolean;
}

export const checkCommand: CommandModule = {
  command: 'check [files..]',
  describe: 'Does the witness log hold an independent rebuild of these toolchain module zips (or every golang.org/toolchain zip in the Go module cache)? Exit 0 equal or not yet rebuilt, 1 a rebuild differs',
  builder: (yargs: Argv) =>
    yargs
      .positional('files', { type: 'string', array: true, describe: 'Toolchain module zips (v0.0.1-goX.GOOS-GOARCH.zip)' })
      .option('gomodcache', { describe: 'Check every toolchain zip the go command downloaded (default cache: $GOMODCACHE, else $GOPATH/pkg/mod, else ~/go/pkg/mod; or give a folder)' })
      .option('download', { type: 'string', array: true, describe: 'Get these toolchains as Google publishes them, with `go mod download -json` (clean environment, GOPROXY/GOSUMDB from `go env`), and check them: golang.org/toolchain@v0.0.1-goX.GOOS-GOARCH, or "rebuilt" for every toolchain the log has rebuilt' })
      .option('download-into', { type: 'string', describe: 'With --download: the module cache to download into and keep (default: a scratch folder, removed after)' })
      .option('go', { type: 'string', describe: 'The go command for --download (default: go on PATH)' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log (default: the embedded log key)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as CheckArgs;
    const { UsageError } = await import('../../errors.js');
    const { checkToolchainZips, defaultModuleCache, toolchainZipsInModuleCache } = await import('../../rebuild/check.js');
    const { openVerifiedRecords } = await import('../tag-log.js');
    let checkedBefore: Awaited<ReturnType<typeof checkToolchainZips>> | undefined;
    let files = args.files ?? [];
    if (args.gomodcache !== undefined && args.gomodcache !== false) {
      const cache = typeof args.gomodcache === 'string' && args.gomodcache !== '' ? args.gomodcache : defaultModuleCache();
      files = [...files, ...(await toolchainZipsInModuleCache(cache))];
      if (files.length === 0 && !args.download?.length) {
        printLines([`No golang.org/toolchain zips in ${cache}: the go command has not downloaded a toolchain there.`]);
        return;
      }
    }
    if (args.downloadInto !== undefined && !args.download?.length) throw new UsageError('USAGE', '--download-into is the --download cache: add --download');
    if (files.length === 0 && !args.download?.length) throw new UsageError('NO_FILES', 'name toolchain zips, or pass --gomodcache or --download');
    const { reader, checkpoint, records } = await openVerifiedRecords(args.log, args.vkey);
    const downloads: Array<{ spec: string; outcome: import('../../rebuild/published.js').DownloadOutcome }> = [];
    if (args.download?.length) {
      const { BUILD_RECORD_TYPE, buildRecordFromLogRecord } = await import('../../rebuild/record.js');
      const { parseTarget, toolchainModuleVersion } = await import('../../release/target.js');
      const { GoModuleDownloader, TOOLCHAIN_MODULE, targetOfModuleVersion } = await import('../../rebuild/published.js');
      const { readGoEnvironment } = await import('../../goenv.js');
      const { existingFolder } = await import('../evidence.js');
      // Every spec validated before the go command runs.
      const versions = new Set<string>();
      for (const spec of args.download) {
        if (spec === 'rebuilt') {
          for (const { record } of records) {
            if (record.type !== BUILD_RECORD_TYPE) continue;
            const build = buildRecordFromLogRecord(record);
            if (build.outcome === 'built') versions.add(toolchainModuleVersion(build.version, parseTarget(build.target)));
          }
          continue;
        }
        const version = spec.startsWith(`${TOOLCHAIN_MODULE}@`) ? spec.slice(TOOLCHAIN_MODULE.length + 1) : spec;
        try {
          targetOfModuleVersion(version);
        } catch {
          throw new UsageError('USAGE', `--download ${JSON.stringify(spec)}: want golang.org/toolchain@v0.0.1-goX.GOOS-GOARCH or "rebuilt"`);
        }
        versions.add(version);
      }
      if (args.downloadInto !== undefined) await existingFolder(args.downloadInto, '--download-into');
      const downloader = await GoModuleDownloader.open(await readGoEnvironment(args.go ?? 'go'), args.downloadInto !== undefined ? { gomodcache: args.downloadInto } : {});
      try {
        const fetched: string[] = [];
        for (const version of [...versions].sort()) {
          const outcome = await downloader.download(TOOLCHAIN_MODULE, version);
          downloads.push({ spec: `${TOOLCHAIN_MODULE}@${version}`, outcome });
          if (outcome.ok) fetched.push(outcome.module.zip.file);
        }
        files = [...files, ...fetched];
        // Hash while the scratch cache still exists.
        checkedBefore = await checkToolchainZips(files, records);
      } finally {
        await downloader.close();
      }
    }
    const checked = checkedBefore ?? (await checkToolchainZips(files, records));
    if (checked.some((zip) => zip.status === 'rebuilt-different')) setExitCode(1);
    else if (downloads.some(({ outcome }) => !outcome.ok)) setExitCode(2);
    if (args.json) {
      printJson({ log: reader.source.location, origin: reader.origin, size: checkpoint.checkpoint.size, verifierKeyPinned: reader.verifierKeyPinned, downloads, zips: checked });
      return;
    }
    const lines = [`Witness log ${reader.origin} (size ${checkpoint.checkpoint.size}, signature and every entry verified${reader.verifierKeyPinned ? ' against the pinned key' : ''})`];
    for (const { spec, outcome } of downloads) {
      if (!outcome.ok) lines.push(`${spec}: NOT DOWNLOADED: ${outcome.reason}`);
      else {
        const checkedBy = 'by' in outcome.module.sumdbChecked ? `checked by the go command against ${outcome.module.sumdbChecked.by}` : `NOT checked against a checksum database (${outcome.module.sumdbChecked.skipped})`;
        lines.push(`${spec}: downloaded with ${outcome.module.goVersion} (${checkedBy}): sha256 ${outcome.module.zip.sha256}, ${outcome.module.zip.size} bytes`);
      }
    }
    for (const zip of checked) {
      lines.push(`${zip.module}: ${zip.h1} (sha256 ${zip.sha256})`);
      if (zip.status === 'rebuilt-equal') {
        lines.push(`  EQUAL: independently rebuilt from git with the same h1 (build record ${zip.matching.join(', ')})${zip.strippedH1 ? ' (darwin: compared with code signatures stripped)' : ''}`);
        lines.push(zip.sameBytes.length ? `  byte for byte the rebuilt zip (build record ${zip.sameBytes.join(', ')})` : '  not byte for byte the rebuilt zip (same h1, other bytes)');
      }
      else if (zip.status === 'not-rebuilt') lines.push('  not rebuilt yet: the log has no build of this release and target');
      else {
        lines.push(`  ALARM: DIFFERENT from the witness's rebuild${zip.matching.length ? ` (some records match: ${zip.matching.join(', ')})` : ''}`);
        for (const other of zip.differing) lines.push(`    build record ${other.index}: ${other.h1}`);
      }
    }
    printLines(lines);
  },
};
