import type { Argv, CommandModule } from 'yargs';
import { printJson, printLines, setExitCode } from '../output.js';

interface CheckArgs {
  files?: string[];
  gomodcache?: string | boolean;
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
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log (default: the embedded log key)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as CheckArgs;
    const { UsageError } = await import('../../errors.js');
    const { checkToolchainZips, defaultModuleCache, toolchainZipsInModuleCache } = await import('../../build/check.js');
    const { openVerifiedRecords } = await import('../tag-log.js');
    let files = args.files ?? [];
    if (args.gomodcache !== undefined && args.gomodcache !== false) {
      const cache = typeof args.gomodcache === 'string' && args.gomodcache !== '' ? args.gomodcache : defaultModuleCache();
      files = [...files, ...(await toolchainZipsInModuleCache(cache))];
      if (files.length === 0) {
        printLines([`No golang.org/toolchain zips in ${cache}: the go command has not downloaded a toolchain there.`]);
        return;
      }
    }
    if (files.length === 0) throw new UsageError('name toolchain zips, or pass --gomodcache', 'NO_FILES');
    const { reader, checkpoint, records } = await openVerifiedRecords(args.log, args.vkey);
    const checked = await checkToolchainZips(files, records);
    if (checked.some((zip) => zip.status === 'rebuilt-different')) setExitCode(1);
    if (args.json) {
      printJson({ log: reader.source.location, origin: reader.origin, size: checkpoint.checkpoint.size, verifierKeyPinned: reader.verifierKeyPinned, zips: checked });
      return;
    }
    const lines = [`Witness log ${reader.origin} (size ${checkpoint.checkpoint.size}, signature and every entry verified${reader.verifierKeyPinned ? ' against the pinned key' : ''})`];
    for (const zip of checked) {
      lines.push(`${zip.module}: ${zip.h1}`);
      if (zip.status === 'rebuilt-equal') lines.push(`  EQUAL: independently rebuilt from git with the same h1 (build record ${zip.matching.join(', ')})${zip.strippedH1 ? ' (darwin: compared with code signatures stripped)' : ''}`);
      else if (zip.status === 'not-rebuilt') lines.push('  not rebuilt yet: the log has no build of this release and target');
      else {
        lines.push(`  ALARM: DIFFERENT from the witness's rebuild${zip.matching.length ? ` (some records match: ${zip.matching.join(', ')})` : ''}`);
        for (const other of zip.differing) lines.push(`    build record ${other.index}: ${other.h1}`);
      }
    }
    printLines(lines);
  },
};
