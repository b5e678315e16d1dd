// The request body of c2sp.org/tlog-witness `POST <submission prefix>/add-checkpoint`, parsed strictly:
//
//   old <decimal size>\n        canonical decimal ("0" for zero, no leading zeros, at most 2^63-1)
//   <base64 hash>\n             0..63 consistency proof lines, each exactly 32 bytes of padded base64
//   \n                          an empty line
//   <signed checkpoint note>    everything after the empty line, passed on as it is
//
// Anything else is a FormatError (the server answers 400). The note itself is checked by the witness.
import { FormatError } from '../errors.js';
import { MAX_INT64, decodeBase64, decodeUtf8, encodeBase64, parseCanonicalUint } from '../tlog/encoding.js';
import { HASH_SIZE, type Hash } from '../tlog/merkle.js';

/** tlog-witness: "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  readonly oldSize: bigint;
  readonly proof: Hash[];
  /** The signed checkpoint note, exactly as sent. */
  readonly checkpoint: string;
}

const CODE = 'MALFORMED_REQUEST';

function bad(why: string): never {
  throw new FormatError(CODE, `malformed add-checkpoint request: ${why}`);
}

/** Parses an add-checkpoint request body (bytes must be UTF-8). */
export function parseAddCheckpointRequest(body: Uint8Array | string): AddCheckpointRequest {
  const text = typeof body === 'string' ? body : decodeUtf8(body, CODE);
  let at = 0;
  const nextLine = (what: string): string => {
    const newline = text.indexOf('\n', at);
    if (newline < 0) bad(`${what} does not end with a newline`);
    const line = text.slice(at, newline);
    at = newline + 1;
    return line;
  };
  const oldLine = nextLine('the old size line');
  if (!oldLine.startsWith('old ')) bad(`the first line must be "old <size>", got ${JSON.stringify(oldLine.slice(0, 40))}`);
  let oldSize: bigint;
  try {
    oldSize = parseCanonicalUint(oldLine.slice(4), MAX_INT64, CODE, 'old size');
  } catch (error) {
    return bad((error as Error).message);
  }
  const proof: Hash[] = [];
  for (;;) {
    const line = nextLine('a proof line');
    if (line === '') break;
    if (proof.length === MAX_PROOF_LINES) bad(`more than ${MAX_PROOF_LINES} consistency proof lines`);
    let hash: Uint8Array;
    try {
      hash = decodeBase64(line, CODE, `proof line ${proof.length + 1}`);
    } catch (error) {
      return bad((error as Error).message);
    }
    if (hash.length !== HASH_SIZE) bad(`proof line ${proof.length + 1} is ${hash.length} bytes, want ${HASH_SIZE}`);
    proof.push(hash);
  }
  const checkpoint = text.slice(at);
  if (checkpoint === '') bad('no checkpoint after the empty line');
  return { oldSize, proof, checkpoint };
}

/** Formats an add-checkpoint request body (for clients and tests). */
export function formatAddCheckpointRequest(request: { oldSize: bigint; proof: readonly Hash[]; checkpoint: string }): string {
  if (request.oldSize < 0n || request.oldSize > MAX_INT64) throw new RangeError(`old size ${request.oldSize} out of range`);
  if (request.proof.length > MAX_PROOF_LINES) throw new RangeError(`a proof of ${request.proof.length} hashes is longer than ${MAX_PROOF_LINES}`);
  return `old ${request.oldSize}\n${request.proof.map((hash) => `${encodeBase64(hash)}\n`).join('')}\n${request.checkpoint}`;
}

/** The Content-Type of a 409 response body: the witness's tree size in decimal and a newline. */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

/** Parses a 409 response body `<size>\n`. */
export function parseSizeResponse(body: string): bigint {
  if (!body.endsWith('\n')) throw new FormatError('MALFORMED_SIZE', 'a text/x.tlog.size body must end with a newline');
  return parseCanonicalUint(body.slice(0, -1), MAX_INT64, 'MALFORMED_SIZE', 'tree size');
}
