import type { Argv, CommandModule } from 'yargs';
import { printJson, printLines, field, setExitCode } from '../output.js';
import { resolveLogFolder } from '../log-location.js';
import { subcommandFailure } from '../arguments.js';

interface CosignArgs {
  log?: string;
  url?: string;
  via?: string[];
  viaGoproxy: boolean;
  fromGomodcache?: string;
  gopath?: string;
  go?: string;
  sumdbVkey?: string;
  cosignerKey?: string;
  key?: string;
  state?: string;
  record: boolean;
  restoreStateFromLog: boolean;
  json: boolean;
}

interface LookupArgs {
  url?: string;
  viaGoproxy: boolean;
  fromGomodcache?: string;
  gopath?: string;
  go?: string;
  sumdbVkey?: string;
  module: string;
  json: boolean;
}

export const cosignCommand: CommandModule = {
  command: 'cosign',
  describe: 'Fetch the sumdb tree head, verify it and its consistency with the last one cosigned (from tiles), cosign it, persist, record. Exit 1 on evidence of a split view',
  builder: (yargs: Argv) =>
    yargs
      .option('url', { type: 'string', describe: 'The checksum database, read directly (default https://sum.golang.org when no other source is given)' })
      .option('via', { type: 'string', array: true, describe: 'Also poll the same database through a module proxy: <proxy>/sumdb/sum.golang.org (repeatable)' })
      .option('via-goproxy', { type: 'boolean', default: false, describe: 'Also poll it through $GOPROXY/sumdb/<name>/ (GOPROXY and GOSUMDB from `go env`), when the proxy\'s /supported answers 200' })
      .option('from-gomodcache', { type: 'string', describe: 'Also take the head the go command last saw: GOPATH/pkg/sumdb/<name>/latest, proven consistent from the tiles cached in this GOMODCACHE (each re-authenticated)' })
      .option('gopath', { type: 'string', describe: 'With --from-gomodcache: the GOPATH holding pkg/sumdb (default: DIR/../.. for DIR=<GOPATH>/pkg/mod, else `go env GOPATH`)' })
      .option('go', { type: 'string', describe: 'The go command whose `go env` is read (default: go on PATH)' })
      .option('sumdb-vkey', { type: 'string', describe: 'The database\'s verifier key (default: sum.golang.org\'s, from the go command)' })
      .option('cosigner-key', { type: 'string', describe: 'The witness\'s key file (Go note PRIVATE+KEY, mode 0600); default: $WITNESS_COSIGNER_KEY' })
      .option('key', { type: 'string', describe: 'The witness log\'s signing key, to append cosigned records; default: $WITNESS_SIGNING_KEY' })
      .option('state', { type: 'string', describe: 'Witness state folder (default: $WITNESS_STATE_DIR, else ~/.local/state/go-source-witness)' })
      .option('record', { type: 'boolean', default: true, describe: 'Append cosigned/evidence records to the witness log (--no-record: state only)' })
      .option('restore-state-from-log', {
        type: 'boolean',
        default: false,
        describe: 'When the state is missing or older than the last checkpoint this cosigner recorded in the witness log, continue from the log\'s (without it: refused, exit 2)',
      }),
  handler: async (parsed) => {
    const args = parsed as unknown as CosignArgs;
    const { SUMDB_VERIFIER_KEY } = await import('../../sumdb/client.js');
    const { UsageError } = await import('../../errors.js');
    const { WitnessStateStore } = await import('../../cosign/state.js');
    const { Witness } = await import('../../cosign/witness.js');
    const { runCosignRound } = await import('../../cosign/round.js');
    const { defaultStateDir } = await import('../../cosign/paths.js');
    const { cosignatureVerifier, cosignatureVerifierKey } = await import('../../tlog/cosignature.js');
    const { cosignatureSigner } = await import('../../tlog-node/signer.js');
    const { noteVerifier } = await import('../../tlog/note.js');
    const { COSIGNER_KEY_ENV, loadSignerKey, repositoryRoot } = await import('../../keyfile.js');
    const { WitnessLog } = await import('../../log/log.js');
    const { printableRef } = await import('../../gitsrc/refname.js');
    const { lastCosignedInLog, reconcileStateWithLog } = await import('../../cosign/log-state.js');
    const { openVerifiedRecords } = await import('../tag-log.js');

    const { chooseSumdbRoute, goEnvReader } = await import('../evidence.js');
    const { directRoute } = await import('../../sumdb/routes.js');
    const sumdbVkey = args.sumdbVkey ?? SUMDB_VERIFIER_KEY;
    // Sources, all chosen (go env read, proxy probed, folders checked) before anything is signed.
    const goEnv = goEnvReader(args.go);
    const direct = args.url !== undefined || (!args.viaGoproxy && args.fromGomodcache === undefined && (args.via ?? []).length === 0);
    const routes = [
      ...(direct ? [directRoute(args.url ?? 'https://sum.golang.org', sumdbVkey)].map((route) => ({ ...route, label: route.location })) : []),
      ...(args.via ?? []).map((proxy) => {
        const route = directRoute(`${proxy.replace(/\/+$/, '')}/sumdb/sum.golang.org`, sumdbVkey);
        return { ...route, label: route.location };
      }),
      ...(args.viaGoproxy ? [(await chooseSumdbRoute({ sumdbViaGoproxy: true, ...(args.sumdbVkey ? { sumdbVkey: args.sumdbVkey } : {}) }, goEnv, { direct: false }))!] : []),
      ...(args.fromGomodcache !== undefined
        ? [(await chooseSumdbRoute({ sumdbFromGomodcache: args.fromGomodcache, ...(args.gopath ? { gopath: args.gopath } : {}), ...(args.sumdbVkey ? { sumdbVkey: args.sumdbVkey } : {}) }, goEnv, { direct: false }))!]
        : []),
    ];
    for (const route of routes) if (route.client.verifierKey !== routes[0]!.client.verifierKey) throw new UsageError('USAGE', 'the sources name different checksum databases (keys): poll one database per round');
    const logDir = await resolveLogFolder(args.log, 'witness sumdb cosign');
    const repository = await repositoryRoot(logDir);
    // Both keys and the log before the state: a round that cannot sign or record opens nothing for writing.
    const cosignerKey = await loadSignerKey({ file: args.cosignerKey, envName: COSIGNER_KEY_ENV, option: '--cosigner-key', forbiddenRepository: repository });
    const logKey = args.record ? await loadSignerKey({ file: args.key, forbiddenRepository: repository }) : undefined;
    const log = args.record ? await WitnessLog.open(logDir) : undefined;
    const store = await WitnessStateStore.open(args.state ?? defaultStateDir());
    const clients = routes.map((route) => route.client);
    const origin = clients[0]!.origin;
    const sumdbVerifier = noteVerifier(routes[0]!.client.verifierKey);
    // The witness log remembers what this cosigner cosigned: a state behind it is refused (or restored)
    // before anything is fetched or signed (src/cosign/log-state.ts).
    const restored = log
      ? await reconcileStateWithLog(
          store,
          lastCosignedInLog((await openVerifiedRecords(args.log)).records, new Map([[origin, [sumdbVerifier]]]), cosignatureVerifier(cosignatureVerifierKey(cosignerKey))),
          { restore: args.restoreStateFromLog },
        )
      : [];
    const witness = new Witness(store, cosignatureSigner(cosignerKey), [{ origin, verifiers: [sumdbVerifier] }]);
    const report = await runCosignRound({
      witness,
      sources: routes.map(({ client, label }) => ({
        location: label,
        latest: () => client.latest(),
        proveConsistency: (old, next) => client.proveConsistency(old, next),
      })),
      ...(log ? { log } : {}),
      ...(logKey ? { logKey } : {}),
    });
    const evidence = report.outcomes.filter((o) => o.kind === 'evidence').length;
    const errors = report.outcomes.filter((o) => o.kind === 'error').length;
    setExitCode(evidence > 0 ? 1 : errors > 0 ? 2 : 0);
    if (args.json) {
      printJson({ cosigner: cosignatureVerifierKey(cosignerKey), state: store.dir, restored, ...report });
      return;
    }
    const lines = [`Witness ${cosignatureVerifierKey(cosignerKey)}, state ${store.dir}`];
    for (const r of restored) {
      lines.push(field('restored', `${printableRef(r.origin)} size ${r.from === undefined ? 'none' : r.from} -> ${r.to} from the witness log (index ${r.index}): the last checkpoint this cosigner recorded`));
    }
    for (const outcome of report.outcomes) {
      if (outcome.kind === 'cosigned') {
        const size = outcome.state.checkpoint.size;
        lines.push(
          field(
            'cosigned',
            outcome.previous === undefined
              ? `${printableRef(outcome.state.origin)} size ${size} from ${outcome.source}: FIRST USE, trusted without a proof (nothing cosigned before)`
              : outcome.previous.checkpoint.size === size
                ? `${printableRef(outcome.state.origin)} size ${size} from ${outcome.source}: unchanged, cosigned again with a fresh timestamp`
                : `${printableRef(outcome.state.origin)} size ${outcome.previous.checkpoint.size} -> ${size} from ${outcome.source}: consistency proven from tiles`,
          ),
        );
      } else if (outcome.kind === 'lagging') {
        lines.push(field('skipped', `${outcome.source} serves size ${outcome.size}, older than the cosigned ${outcome.cosignedSize} (a lagging cache; not evidence)`));
      } else if (outcome.kind === 'evidence') {
        lines.push(`  EVIDENCE OF A SPLIT VIEW from ${outcome.source}: ${outcome.evidence.reason}; not cosigned`);
      } else {
        lines.push(field('error', `${outcome.source}: ${outcome.message} [${outcome.code}]`));
      }
    }
    for (const folder of report.evidenceFolders) lines.push(field('evidence kept', folder));
    if (report.appended) lines.push(`Appended ${report.appended.newSize - report.appended.oldSize} records: log size ${report.appended.oldSize} -> ${report.appended.newSize}`);
    printLines(lines);
  },
};

export const lookupCommand: CommandModule = {
  command: 'lookup <module>',
  describe: 'Look up MODULE@VERSION in the checksum database: the record, verified with its inclusion proof in a signed tree',
  builder: (yargs: Argv) =>
    yargs
      .positional('module', { type: 'string', demandOption: true, describe: 'module@version, e.g. golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64' })
      .option('url', { type: 'string', describe: 'The checksum database (or <proxy>/sumdb/sum.golang.org); default https://sum.golang.org' })
      .option('via-goproxy', { type: 'boolean', default: false, describe: 'Read it through $GOPROXY/sumdb/<name>/ (from `go env`)' })
      .option('from-gomodcache', { type: 'string', describe: 'Read it from the go command\'s cache in this GOMODCACHE (every note, tile and proof re-verified)' })
      .option('gopath', { type: 'string', describe: 'With --from-gomodcache: the GOPATH holding pkg/sumdb' })
      .option('go', { type: 'string', describe: 'The go command whose `go env` is read (default: go on PATH)' })
      .option('sumdb-vkey', { type: 'string', describe: 'The database\'s verifier key (default: sum.golang.org\'s)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as LookupArgs;
    const { UsageError } = await import('../../errors.js');
    const { chooseSumdbRoute, goEnvReader } = await import('../evidence.js');
    const at = args.module.lastIndexOf('@');
    if (at <= 0 || at === args.module.length - 1) throw new UsageError('USAGE', `${args.module}: want module@version`);
    if ([args.url !== undefined, args.viaGoproxy, args.fromGomodcache !== undefined].filter(Boolean).length > 1) throw new UsageError('USAGE', 'name one source: --url, --via-goproxy or --from-gomodcache');
    const route = (await chooseSumdbRoute(
      {
        ...(args.url !== undefined ? { sumdbUrl: args.url } : {}),
        sumdbViaGoproxy: args.viaGoproxy,
        ...(args.fromGomodcache !== undefined ? { sumdbFromGomodcache: args.fromGomodcache } : {}),
        ...(args.gopath ? { gopath: args.gopath } : {}),
        ...(args.sumdbVkey ? { sumdbVkey: args.sumdbVkey } : {}),
      },
      goEnvReader(args.go),
      { direct: true },
    ))!;
    const client = route.client;
    const result = await client.lookup(args.module.slice(0, at), args.module.slice(at + 1));
    if (args.json) {
      printJson(result);
      return;
    }
    printLines([
      `${args.module}: record ${result.id} in tree ${result.checkpoint.checkpoint.size}, inclusion proof verified (${result.proof.length} hashes), from ${route.label}`,
      ...result.text.trimEnd().split('\n').map((line: string) => `  ${line}`),
    ]);
  },
};

interface ScanArgs {
  log?: string;
  url?: string;
  via?: string;
  sumdbVkey?: string;
  key?: string;
  state?: string;
  from?: string;
  to?: string;
  tagGraceDays: number;
  batchTiles: number;
  commitSeconds: number;
  concurrency: number;
  restoreStateFromLog: boolean;
  json: boolean;
}

const scanCommand: CommandModule = {
  command: 'scan',
  describe: 'Read the database\'s data tiles from the scan position up to a verified tree head; record every golang.org/toolchain record; exit 1 on an alarm',
  builder: (yargs: Argv) =>
    yargs
      .option('url', { type: 'string', describe: 'The checksum database (default https://sum.golang.org)' })
      .option('via', { type: 'string', describe: 'Read the same database through a module proxy instead: <proxy>/sumdb/sum.golang.org' })
      .option('sumdb-vkey', { type: 'string', describe: 'The database\'s verifier key (default: sum.golang.org\'s, from the go command)' })
      .option('key', { type: 'string', describe: 'The witness log\'s signing key file; default: $WITNESS_SIGNING_KEY' })
      .option('state', { type: 'string', describe: 'Witness state folder (default: $WITNESS_STATE_DIR, else ~/.local/state/go-source-witness)' })
      .option('from', { type: 'string', describe: 'First record of a new scan (e.g. 18938500, near go1.21.0\'s first toolchain record); default 0' })
      .option('to', { type: 'string', describe: 'Scan up to this tree size (default: the signed head\'s)' })
      .option('tag-grace-days', { type: 'number', default: 14, describe: 'Days after a release tag is first seen before "no toolchain record" is an alarm' })
      .option('batch-tiles', { type: 'number', default: 64, describe: 'Tiles per batch' })
      .option('commit-seconds', { type: 'number', default: 5, describe: 'Move the durable scan position at most this often (0: after every batch); what was found is appended to the log at most every 6 times that' })
      .option('concurrency', { type: 'number', default: 8, describe: 'Tiles fetched at once' })
      .option('restore-state-from-log', {
        type: 'boolean',
        default: false,
        describe: 'When the state has no position for this database: continue from the witness log\'s last scan record, if the state folder holds the module index (modules.idx) that record signs; else start afresh',
      })
      .conflicts('url', 'via'),
  handler: async (parsed) => {
    const args = parsed as unknown as ScanArgs;
    const { SumdbClient, SUMDB_VERIFIER_KEY, SUMDB_URL } = await import('../../sumdb/client.js');
    const { scanSumdb } = await import('../../toolchains/scan.js');
    const { defaultStateDir } = await import('../../cosign/paths.js');
    const { loadSignerKey, repositoryRoot } = await import('../../keyfile.js');
    const { WitnessLog } = await import('../../log/log.js');
    const { alarmKey } = await import('../../toolchains/record.js');
    // Checked by src/cli/arguments.ts (COMMAND_CHECKS): decimal, below 2^63.
    const from = args.from === undefined ? undefined : BigInt(args.from);
    const to = args.to === undefined ? undefined : BigInt(args.to);
    const baseUrl = args.via !== undefined ? `${args.via.replace(/\/+$/, '')}/sumdb/sum.golang.org` : (args.url ?? SUMDB_URL);
    const client = new SumdbClient({ baseUrl, verifierKey: args.sumdbVkey ?? SUMDB_VERIFIER_KEY, concurrency: args.concurrency });
    const logDir = await resolveLogFolder(args.log, 'witness sumdb scan');
    const log = await WitnessLog.open(logDir);
    const key = await loadSignerKey({ file: args.key, forbiddenRepository: await repositoryRoot(logDir) });
    const report = await scanSumdb({
      client,
      log,
      signer: key,
      stateDir: args.state ?? defaultStateDir(),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      tagGraceDays: args.tagGraceDays,
      batchTiles: args.batchTiles,
      commitSeconds: args.commitSeconds,
      concurrency: args.concurrency,
      restoreFromLog: args.restoreStateFromLog,
    });
    if (report.alarms.length > 0) setExitCode(1);
    if (args.json) {
      printJson(report);
      return;
    }
    const lines = [
      `Checksum database ${report.database}: signed tree head size ${report.head.size}, root ${report.head.rootHash}`,
      ...(report.restore
        ? [
            field(
              'restored',
              report.restore.restored
                ? `position ${report.restore.position} from the witness log's scan record (log index ${report.restore.index}); module index checked against its SHA-256${report.restore.why ? ` (${report.restore.why})` : ''}`
                : `no (${report.restore.why}): scanning afresh from record ${report.from}`,
            ),
          ]
        : []),
      ...(report.behindLog ? [field('note', `the state was at record ${report.from}, behind the log's scan record at ${report.behindLog.position} (log index ${report.behindLog.index}): the records from there on are read again`)] : []),
      field('scanned', `records ${report.from} -> ${report.position} of ${report.end} (${report.recordsScanned} records in ${report.tilesRead} data tiles, ${(report.bytesRead / 1e6).toFixed(1)} MB, ${report.seconds.toFixed(1)} s; scan started at record ${report.start})`),
      field('toolchains', `${report.toolchains.length} new toolchain ${report.toolchains.length === 1 ? 'record' : 'records'}${report.reconciled ? ` (${report.reconciled} found already in the log from an interrupted scan)` : ''}`),
    ];
    for (const { index, toolchain } of report.toolchains) {
      lines.push(`    ${toolchain.moduleVersion} record ${toolchain.record}${toolchain.reproducible ? '' : ' (not reproducible by distpack)'}: log index ${index}`);
    }
    if (report.malformedRecords) lines.push(field('malformed', `${report.malformedRecords} records are not two go.sum lines`));
    for (const { index, alarm } of report.alarms) lines.push(`  ALARM ${alarmKey(alarm)}: ${alarm.fields.map((f) => `${f.key} ${f.value}`).join('; ')} (log index ${index})`);
    if (report.scanRecord) lines.push(field('recorded', `scan position ${report.scanRecord.scan.position} of tree size ${report.scanRecord.scan.treeSize} (log index ${report.scanRecord.index}; module index sha256:${report.scanRecord.scan.moduleIndex})`));
    if (report.appended) lines.push(`Appended ${report.appended.newSize - report.appended.oldSize} records: log size ${report.appended.oldSize} -> ${report.appended.newSize}`);
    printLines(lines);
  },
};

/** The subcommands of `witness sumdb`, in the order its help lists them (src/cli/main.ts's COMMAND_TREE too). */
export const SUMDB_SUBCOMMANDS: readonly CommandModule[] = [cosignCommand, lookupCommand, scanCommand];

export const sumdbCommand: CommandModule = {
  command: 'sumdb <command>',
  describe: 'Witness the Go checksum database: cosign its tree heads, look up records, scan for toolchains',
  builder: (yargs: Argv) => SUMDB_SUBCOMMANDS.reduce((y, command) => y.command(command), yargs).demandCommand(1),
  // Runs only when no subcommand matched (`witness sumdb "" -- ...`): refused, never exit 0.
  handler: (parsed) => {
    throw subcommandFailure(['sumdb'], SUMDB_SUBCOMMANDS, parsed.command);
  },
};
