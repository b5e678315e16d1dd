import type { Argv, CommandModule } from 'yargs';
import { resolveLogFolder } from '../log-location.js';
import { progress } from '../progress.js';
import { bytesWithHuman } from '../../format.js';
import { printError, printJson, printLines, setExitCode } from '../output.js';

interface IngestArgs {
  results?: string[];
  recheck?: string[];
  log?: string;
  key?: string;
  sumdbUrl?: string;
  sumdbVkey?: string;
  sumdbViaGoproxy: boolean;
  sumdbFromGomodcache?: string;
  gopath?: string;
  locateWindow: number;
  goDownload: boolean;
  go?: string;
  gomodcache?: string;
  offline: boolean;
  published?: string;
  dryRun: boolean;
  json: boolean;
}

export const ingestCommand: CommandModule = {
  command: 'ingest [results..]',
  describe: 'Validate build results (or --recheck recorded builds), compare them with the published module (go mod download), sumdb, go.dev and earlier builds, and append signed build records (exit 1 on any unequal file or reproducibility conflict)',
  builder: (yargs: Argv) =>
    yargs
      .positional('results', { type: 'string', array: true, describe: 'Build result files (<version>.<goos>-<goarch>.<sha256>.build.json), each with its build log beside it' })
      .option('recheck', { type: 'string', array: true, describe: 'Instead of result files: re-evaluate these build records of the log (log indexes, or "all": the latest record of every built result) against the evidence available now; appends new records citing them' })
      .option('key', { type: 'string', describe: 'Signing key file (mode 0600, outside the repository); default: $WITNESS_SIGNING_KEY' })
      .option('go-download', { type: 'boolean', default: false, describe: 'Get Google\'s published module zip, .mod and .info with `go mod download -json` (clean environment; GOPROXY/GOSUMDB from `go env`) and compare byte for byte' })
      .option('go', { type: 'string', describe: 'The go command for --go-download, --sumdb-via-goproxy and GOPATH defaults (default: go on PATH)' })
      .option('gomodcache', { type: 'string', describe: 'With --go-download: the module cache to download into and keep (default: a scratch folder, removed after); <GOPATH>/pkg/mod keeps the go command\'s signed tree head in <GOPATH> too' })
      .option('sumdb-via-goproxy', { type: 'boolean', default: false, describe: 'Read the checksum database through $GOPROXY/sumdb/<name>/ (GOPROXY and GOSUMDB from `go env`), when the proxy\'s /supported answers 200' })
      .option('sumdb-from-gomodcache', { type: 'string', describe: 'Read the checksum database from the go command\'s cache: GOMODCACHE folder DIR (cached lookups and tiles, every one re-verified); without DIR, the --go-download cache' })
      .option('gopath', { type: 'string', describe: 'With --sumdb-from-gomodcache DIR: the GOPATH holding pkg/sumdb/<name>/latest (default: DIR/../.. when DIR is <GOPATH>/pkg/mod, else `go env GOPATH`)' })
      .option('locate-window', { type: 'number', default: 4096, describe: 'When /lookup does not find a toolchain record: records either side of the release\'s linux/amd64 record to search by leaf hash in authenticated hash tiles (0: do not search)' })
      .option('sumdb-url', { type: 'string', describe: 'The checksum database to read directly (default https://sum.golang.org unless another route or --offline is given)' })
      .option('sumdb-vkey', { type: 'string', describe: 'The database\'s verifier key (default: sum.golang.org\'s)' })
      .option('offline', { type: 'boolean', default: false, describe: 'Consult nothing over the network (verdicts say "unchecked: offline"); --sumdb-from-gomodcache DIR still reads the local cache' })
      .option('published', { type: 'string', describe: 'go.dev/dl JSON listing (file or URL of https://go.dev/dl/?mode=json&include=all) to compare archive SHA-256s with' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Validate and compare; append nothing (no key needed)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as IngestArgs;
    const { UsageError } = await import('../../errors.js');
    const { loadSignerKey, repositoryRoot } = await import('../../keyfile.js');
    const { WitnessLog } = await import('../../log/log.js');
    const { ingestBuildResults } = await import('../../rebuild/ingest.js');
    const { parseRecheckSelection, recheckBuildRecords, resolveRecheckSelection } = await import('../../rebuild/recheck.js');
    const { loadPublishedListing } = await import('../../rebuild/expected.js');
    const { GoModuleDownloader } = await import('../../rebuild/published.js');
    const { sanitizeGoMessage } = await import('../../goenv.js');
    const { chooseSumdbRoute, existingFolder, goEnvReader } = await import('../evidence.js');
    // Validate everything before acting.
    const results = args.results ?? [];
    if (args.recheck !== undefined && results.length > 0) throw new UsageError('USAGE', 'give build result files or --recheck, not both');
    if (args.recheck === undefined && results.length === 0) throw new UsageError('NO_RESULTS', 'name build result files, or --recheck INDEX|all');
    const selection = args.recheck !== undefined ? parseRecheckSelection(args.recheck) : undefined;
    if (args.offline && (args.goDownload || args.sumdbViaGoproxy || args.sumdbUrl !== undefined)) {
      throw new UsageError('USAGE', '--offline consults nothing over the network: drop --go-download, --sumdb-via-goproxy and --sumdb-url (or --offline)');
    }
    if (!Number.isSafeInteger(args.locateWindow) || args.locateWindow < 0) throw new UsageError('USAGE', `--locate-window ${args.locateWindow}: want a non-negative integer`);
    if (args.gomodcache !== undefined && !args.goDownload) throw new UsageError('USAGE', '--gomodcache is the --go-download cache: add --go-download (to read a cache for sumdb, use --sumdb-from-gomodcache DIR)');
    if (args.gomodcache !== undefined) await existingFolder(args.gomodcache, '--gomodcache');
    const logDir = await resolveLogFolder(args.log, 'witness ingest');
    const log = await WitnessLog.open(logDir);
    const key = args.dryRun ? undefined : await loadSignerKey({ file: args.key, forbiddenRepository: await repositoryRoot(logDir) });
    if (selection !== undefined) await resolveRecheckSelection(log, selection); // refused before anything is fetched
    const goEnv = goEnvReader(args.go);
    const needsGo = args.goDownload || args.sumdbViaGoproxy;
    const go = needsGo ? await goEnv() : undefined;
    let downloader: import('../../rebuild/published.js').GoModuleDownloader | undefined;
    if (args.goDownload) {
      downloader = await GoModuleDownloader.open(go!, args.gomodcache !== undefined ? { gomodcache: args.gomodcache } : {});
    }
    let report;
    try {
      const route = await chooseSumdbRoute(args, goEnv, {
        direct: !args.offline,
        ...(downloader ? { cacheDefault: { gomodcache: downloader.gomodcache, gopath: downloader.gopath } } : {}),
      });
      const options = {
        ...(route ? { sumdb: route.client, sumdbLabel: route.label } : { sumdbSkipped: 'offline: the checksum database was not consulted' }),
        ...(downloader ? { goDownload: downloader } : {}),
        ...(args.published ? { published: await loadPublishedListing(args.published) } : {}),
        ...(go ? { redact: (text: string) => sanitizeGoMessage(text, go.goproxy) } : {}),
        locateWindow: args.locateWindow,
        dryRun: args.dryRun,
        onProgress: progress().onProgress,
      };
      if (route && !args.json) printError(`witness: checksum database: ${route.label} (${route.location})`);
      if (downloader && !args.json) printError(`witness: published modules: ${go!.version} go mod download -json into ${downloader.gomodcache}`);
      report = selection !== undefined ? await recheckBuildRecords(log, selection, key, options) : await ingestBuildResults(log, results, key, options);
    } finally {
      await downloader?.close();
    }
    const bad = report.conflicts.length > 0 || report.toolchainAlarms.length > 0 || report.builds.some((build) => build.status === 'unequal');
    if (bad) setExitCode(1);
    if (args.json) {
      printJson(report);
      return;
    }
    const lines: string[] = [];
    for (const build of report.builds) {
      const { record } = build;
      const where =
        build.alreadyAt !== undefined
          ? `${record.recheckOf !== undefined ? 'nothing new since' : 'already recorded at'} log index ${build.alreadyAt}`
          : build.index !== undefined
            ? `log index ${build.index}${record.recheckOf !== undefined ? `, recheck of log index ${record.recheckOf}` : ''}`
            : record.recheckOf !== undefined
              ? `recheck of log index ${record.recheckOf}`
              : '';
      lines.push(`${record.version} ${record.target}${record.env.length ? ` ${record.env.join(' ')}` : ''}: ${build.status.toUpperCase()} (${where})`);
      if (record.failure) lines.push(`    build failed: ${record.failure}`);
      if (record.sourceCheck) lines.push(`    source check: ${record.sourceCheck.equal ? 'equal to the git tree' : `DIFFERS from the git tree (${record.sourceCheck.problems} problems)`} (${record.sourceCheck.files} files)`);
      const width = Math.max(0, ...(record.files ?? []).map((file) => file.name.length));
      for (const file of record.files ?? []) {
        const verdicts = record.verdicts.filter((verdict) => verdict.file === file.name);
        const summary = verdicts.length ? verdicts.map((verdict) => `${verdict.source}: ${verdict.status}`).join(', ') : 'unchecked: nothing to compare with';
        lines.push(`    ${file.name.padEnd(width)}  ${bytesWithHuman(file.size).padEnd(26)}  ${summary}`);
        for (const verdict of verdicts) if (verdict.status !== 'equal') lines.push(`    ${''.padEnd(width + 28)}    ${verdict.source} ${verdict.status}: ${verdict.detail}`);
      }
      for (const item of record.evidence) lines.push(`    evidence ${item.source}: ${item.detail}`);
    }
    for (const { record, index, moved } of report.bootstraps) {
      const from = record.branch ? `${record.branch} at ${record.commit}, from C by ${record.root.compiler}` : `${record.commit}, built with ${record.builtWith.map((b) => b.version).join(' <- ')}`;
      lines.push(`bootstrap ${record.version} ${record.hash}: ${from} (log index ${index})`);
      if (moved) lines.push(`    BRANCH HEAD MOVED: ${record.branch} was ${moved.from} (log index ${moved.index}), now ${record.commit} (accepted at bootstrap)`);
    }
    for (const { record, index } of report.agreements) {
      const roots = record.roots.map((r) => (r.kind === 'c' ? `C (${r.compiler})` : `binary ${r.chain[r.chain.length - 1]!.split('=')[0]}`)).join(', ');
      lines.push(
        record.status === 'agree'
          ? `${record.version} ${record.target}${record.env.length ? ` ${record.env.join(' ')}` : ''}: ${record.roots.length} independent bootstrap roots AGREE (${roots}) (log index ${index})`
          : `ALARM: ${record.version} ${record.target}${record.env.length ? ` ${record.env.join(' ')}` : ''}: independent bootstrap roots DIFFER (${roots}) on ${record.differ.map((d) => d.name).join(', ')} (log index ${index})`,
      );
    }
    for (const conflict of report.conflicts) lines.push(`REPRODUCIBILITY FAILURE: ${conflict}`);
    for (const alarm of report.toolchainAlarms) {
      const value = (key: string) => alarm.fields.find((f) => f.key === key)?.value ?? '';
      lines.push(`ALARM build-disagrees: ${value('version')} ${value('target')} differs from sumdb record ${value('record')} (toolchain record at log index ${value('toolchain-index')}): built ${value('built-go-sum')}, published ${value('recorded-go-sum')}`);
    }
    if (report.appended) lines.push(`Appended ${report.appended.newSize - report.appended.oldSize} records: log size ${report.appended.oldSize} -> ${report.appended.newSize}, commit ${report.appended.commit}`);
    else if (args.dryRun) lines.push('Dry run: nothing appended.');
    else lines.push('Nothing new to append.');
    printLines(lines);
  },
};
