import type { Argv, CommandModule } from 'yargs';
import { printJson, printLines, field } from '../output.js';
import { resolveLogLocation } from '../log-location.js';

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

const cosignCommand: CommandModule = {
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
      .option('record', { type: 'boolean', default: true, describe: 'Append cosigned/evidence records to the witness log (--no-record: state only)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as CosignArgs;
    const { SUMDB_VERIFIER_KEY } = await import('../../sumdb/client.js');
    const { UsageError } = await import('../../errors.js');
    const { WitnessStateStore } = await import('../../cosign/state.js');
    const { Witness } = await import('../../cosign/witness.js');
    const { runCosignRound } = await import('../../cosign/round.js');
    const { defaultStateDir } = await import('../../cosign/paths.js');
    const { cosignatureSigner, cosignatureVerifierKey } = await import('../../tlog/cosignature.js');
    const { noteVerifier } = await import('../../tlog/note.js');
    const { COSIGNER_KEY_ENV, loadSignerKey, repositoryRoot } = await import('../../keyfile.js');
    const { WitnessLog } = await import('../../log/log.js');
    const { printableRef } = await import('../../gitsrc/refname.js');

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
    for (const route of routes) if (route.client.verifierKey !== routes[0]!.client.verifierKey) throw new UsageError('the sources name different checksum databases (keys): poll one database per round', 'USAGE');
    const logDir = await resolveLogLocation(args.log);
    const repository = await repositoryRoot(logDir);
    const cosignerKey = await loadSignerKey({ file: args.cosignerKey, envName: COSIGNER_KEY_ENV, option: '--cosigner-key', forbiddenRepository: repository });
    const log = args.record ? await WitnessLog.open(logDir) : undefined;
    const logKey = args.record ? await loadSignerKey({ file: args.key, forbiddenRepository: repository }) : undefined;
    const store = await WitnessStateStore.open(args.state ?? defaultStateDir());
    const clients = routes.map((route) => route.client);
    const origin = clients[0]!.origin;
    const witness = new Witness(store, cosignatureSigner(cosignerKey), [{ origin, verifiers: [noteVerifier(routes[0]!.client.verifierKey)] }]);
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
    process.exitCode = evidence > 0 ? 1 : errors > 0 ? 2 : 0;
    if (args.json) {
      printJson({ cosigner: cosignatureVerifierKey(cosignerKey), state: store.dir, ...report });
      return;
    }
    const lines = [`Witness ${cosignatureVerifierKey(cosignerKey)}, state ${store.dir}`];
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

const lookupCommand: CommandModule = {
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
    if (at <= 0 || at === args.module.length - 1) throw new UsageError(`${args.module}: want module@version`);
    if ([args.url !== undefined, args.viaGoproxy, args.fromGomodcache !== undefined].filter(Boolean).length > 1) throw new UsageError('name one source: --url, --via-goproxy or --from-gomodcache', 'USAGE');
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

export const sumdbCommand: CommandModule = {
  command: 'sumdb <command>',
  describe: 'Witness the Go checksum database: cosign its tree heads, look up records',
  builder: (yargs: Argv) => yargs.command(cosignCommand).command(lookupCommand).demandCommand(1),
  handler: () => {},
};
