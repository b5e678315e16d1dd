// A test log that pushes its checkpoints to a tlog-witness server, as a log operator's client would.
import { formatAddCheckpointRequest } from '../../src/cosign/protocol.js';
import { formatCheckpoint } from '../../src/tlog/checkpoint.js';
import { utf8 } from '../../src/tlog/encoding.js';
import { type Hash, MemoryTree, proveConsistency } from '../../src/tlog/merkle.js';
import { type Signer, signNote } from '../../src/tlog/note.js';
import { generateKeyPair, noteSigner } from '../../src/tlog-node/signer.js';

export class TestLog {
  readonly tree = new MemoryTree();
  readonly signer: Signer;
  readonly vkey: string;
  readonly skey: string;

  /** A log whose key (seeded, so runs reproduce) is named `keyName` (default: the origin). */
  constructor(
    readonly origin: string,
    seedByte: number,
    keyName: string = origin,
  ) {
    const { signerKey, verifierKey } = generateKeyPair(keyName, new Uint8Array(32).fill(seedByte));
    this.skey = signerKey;
    this.vkey = verifierKey;
    this.signer = noteSigner(signerKey);
  }

  grow(count: number, salt = 'entry'): this {
    for (let i = 0; i < count; i++) this.tree.append(utf8(`${this.origin} ${salt} ${this.tree.size}\n`));
    return this;
  }

  get size(): bigint {
    return this.tree.size;
  }

  /** The checkpoint text at `size` (root overridable, to forge a fork). */
  text(size: bigint = this.tree.size, rootHash: Hash = this.tree.root(size)): string {
    return formatCheckpoint({ origin: this.origin, size, rootHash, extensions: [] });
  }

  /** The signed checkpoint note at `size`. */
  note(size: bigint = this.tree.size, signers: readonly Signer[] = [this.signer], rootHash?: Hash): string {
    return signNote(this.text(size, rootHash), signers);
  }

  proof(oldSize: bigint, size: bigint = this.tree.size): Hash[] {
    return oldSize === 0n ? [] : proveConsistency(oldSize, size, this.tree.read);
  }

  /** An add-checkpoint request body from `oldSize` to `size`, with a correct proof. */
  body(oldSize: bigint, size: bigint = this.tree.size): string {
    return formatAddCheckpointRequest({ oldSize, proof: this.proof(oldSize, size), checkpoint: this.note(size) });
  }
}

export interface HttpResult {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Headers;
  readonly text: string;
}

export async function post(url: string, body: string | Uint8Array, path = '/add-checkpoint'): Promise<HttpResult> {
  const response = await fetch(`${url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, text: await response.text() };
}

export async function get(url: string, path: string, method = 'GET'): Promise<HttpResult> {
  const response = await fetch(`${url}${path}`, { method });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, text: await response.text() };
}
