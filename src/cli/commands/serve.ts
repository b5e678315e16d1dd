import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { printError, printLines, session } from '../output.js';

interface ServeArgs {
  log?: string;
  listen: string;
  logs: string;
  cosignerKey?: string;
  state?: string;
  bodyLimit: number;
  json: boolean;
}

/** Parses `host:port` (`[v6]:port` for IPv6); throws a UsageError. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65_535) throw new UsageError('BAD_LISTEN_ADDRESS', `--listen ${JSON.stringify(text)}: want HOST:PORT, e.g. 127.0.0.1:7380 or [::1]:7380`);
  return { host: (match[1] ?? match[2])!, port };
}

export const serveCommand: CommandModule = {
  command: 'serve',
  describe: 'Serve the C2SP tlog-witness protocol: POST /add-checkpoint for the logs in a logs/v0 list, GET /<sha256(origin)>/checkpoint',
  builder: (yargs: Argv) =>
    yargs
      .option('listen', { type: 'string', default: '127.0.0.1:7380', describe: 'Address to listen on, HOST:PORT ([::]:PORT for all IPv6 and IPv4)' })
      .option('logs', { type: 'string', demandOption: true, describe: 'The logs to witness: a file in the witness network log-list format (logs/v0: vkey, origin, qpd, ... stanzas)' })
      .option('cosigner-key', { type: 'string', describe: 'The witness\'s key file (Go note PRIVATE+KEY, mode 0600); default: $WITNESS_COSIGNER_KEY' })
      .option('state', { type: 'string', describe: 'Witness state folder, shared with `witness sumdb cosign` (default: $WITNESS_STATE_DIR, else ~/.local/state/go-source-witness)' })
      .option('body-limit', { type: 'number', default: 16 * 1024, describe: 'Largest add-checkpoint request body, bytes' }),
  handler: async (parsed) => {
    const args = parsed as unknown as ServeArgs;
    const { readFile } = await import('node:fs/promises');
    const { EnvironmentError } = await import('../../errors.js');
    const { LogListError, parseLogList } = await import('../../cosign/loglist.js');
    const { WitnessStateStore } = await import('../../cosign/state.js');
    const { Witness } = await import('../../cosign/witness.js');
    const { jsonLineLogger, startWitnessServer } = await import('../../cosign/server.js');
    const { defaultStateDir } = await import('../../cosign/paths.js');
    const { cosignatureVerifierKey } = await import('../../tlog/cosignature.js');
    const { cosignatureSigner } = await import('../../tlog-node/signer.js');
    const { COSIGNER_KEY_ENV, loadSignerKey } = await import('../../keyfile.js');

    if (!Number.isInteger(args.bodyLimit) || args.bodyLimit < 256) throw new UsageError('USAGE', '--body-limit must be an integer of at least 256 bytes');
    const listen = parseListenAddress(args.listen);
    const text = await readFile(args.logs, 'utf8').catch((error: Error) => {
      throw new EnvironmentError('LOGS_NOT_READABLE', `cannot read the log list ${args.logs}: ${error.message}`);
    });
    let list;
    try {
      list = parseLogList(text);
    } catch (error) {
      // A bad configuration file is a usage error (exit 2), with the file and line named.
      if (error instanceof LogListError) throw new UsageError(error.code, `${args.logs}: ${error.message}`);
      throw error;
    }
    if (list.logs.length === 0) throw new UsageError('NO_LOGS', `${args.logs}: no log this witness can verify`);
    const cosignerKey = await loadSignerKey({ file: args.cosignerKey, envName: COSIGNER_KEY_ENV, option: '--cosigner-key' });
    const store = await WitnessStateStore.open(args.state ?? defaultStateDir());
    const { saveEvidence } = await import('../../cosign/round.js');
    // A log that signs two different checkpoints of one size: keep both notes as evidence (as pull mode does).
    const witness = new Witness(store, cosignatureSigner(cosignerKey), list.logs, {
      onEvidence: async (evidence) => {
        const folder = await saveEvidence(store.dir, evidence, new Date());
        printError(`witness serve: EVIDENCE of a split view for ${JSON.stringify(evidence.origin)} (${evidence.reason}), kept in ${folder}`);
      },
    });
    const server = await startWitnessServer({
      witness,
      listen,
      qpd: list.qpd,
      bodyLimit: args.bodyLimit,
      logger: jsonLineLogger(session().io.stdout),
      // With --log, the witness log folder is served read-only under /log/ (compare --log <url>/log/ works).
      ...(args.log !== undefined ? { logFolder: args.log } : {}),
    }).catch((error: NodeJS.ErrnoException) => {
      throw new EnvironmentError(error.code === 'EADDRINUSE' ? 'ADDRESS_IN_USE' : 'LISTEN_FAILED', `cannot listen on ${args.listen}: ${error.message}`);
    });

    const vkey = cosignatureVerifierKey(cosignerKey);
    if (args.json) {
      printLines([
        JSON.stringify({ event: 'listening', url: server.url, cosigner: vkey, state: store.dir, logs: list.logs.map((log) => ({ origin: log.origin, qpd: list.qpd.get(log.origin) ?? null })), skipped: list.skipped }),
      ]);
    } else {
      const lines = [
        `witness serve: cosigner ${vkey}`,
        `  listening  ${server.url}  (POST ${server.url}/add-checkpoint, GET ${server.url}/<sha256(origin)>/checkpoint)`,
        `  state      ${store.dir}`,
        ...(args.log !== undefined ? [`  log        ${server.url}/log/ (the witness log ${args.log}, read-only)`] : []),
        ...list.logs.map((log) => `  log        ${JSON.stringify(log.origin)}  qpd ${list.qpd.get(log.origin) ?? 'unlimited'}  keys ${log.verifiers.map((v) => v.name).join(', ')}`),
        ...list.skipped.map((skip) => `  skipped    line ${skip.line}: ${skip.reason}`),
        ...list.unknownKeywords.map((unknown) => `  ignored    line ${unknown.line}: unknown keyword ${JSON.stringify(unknown.keyword)}`),
      ];
      printLines(lines);
    }

    // Run until SIGINT/SIGTERM; then shut down gracefully (a second signal exits at once).
    const stderr = session().io.stderr;
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) {
          stderr.write(`witness serve: ${signal} again, exiting now\n`);
          process.exit(1);
        }
        stopping = true;
        stderr.write(`witness serve: ${signal}, shutting down\n`);
        server.close().then(resolve, (error: unknown) => {
          stderr.write(`witness serve: shutdown error: ${String(error)}\n`);
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    stderr.write('witness serve: stopped\n');
  },
};
