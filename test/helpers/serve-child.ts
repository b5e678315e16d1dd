// Child process for the serve crash test: a witness server on 127.0.0.1 (port 0) over a state folder,
// for the logs of a logs/v0 file, until it is killed. Prints "listening <url>" once it accepts requests.
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { readFileSync } from 'node:fs';
import { parseLogList } from '../../src/cosign/loglist.js';
import { startWitnessServer } from '../../src/cosign/server.js';
import { WitnessStateStore } from '../../src/cosign/state.js';
import { Witness } from '../../src/cosign/witness.js';
import { cosignatureSigner } from '../../src/tlog-node/signer.js';

const [stateDir, logsFile] = process.argv.slice(2);
const list = parseLogList(readFileSync(logsFile!, 'utf8'));
const store = await WitnessStateStore.open(stateDir!);
const witness = new Witness(store, cosignatureSigner(process.env.WITNESS_COSIGNER_KEY ?? ''), list.logs);
const server = await startWitnessServer({ witness, listen: { host: '127.0.0.1', port: 0 }, qpd: list.qpd });
process.stdout.write(`listening ${server.url}\n`);
