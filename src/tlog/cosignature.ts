// C2SP tlog-cosignature v1.0.1, "cosignature/v1": a timestamped Ed25519 signature (signature type 0x04)
// over "cosignature/v1\ntime <T>\n" + the checkpoint note text.
import { FormatError, VerificationError } from '../errors.js';
import { MAX_INT64, concatBytes, decodeBase64, utf8 } from './encoding.js';
import {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  type NoteSignature,
  type Signer,
  type SignerKey,
  type Verifier,
  computeKeyId,
  ed25519PrivateKeyObject,
  ed25519PublicKeyObject,
  ed25519Verify,
  formatVerifierKey,
  parseSignerKey,
  parseVerifierKey,
} from './note.js';
import { sign as edSign } from 'node:crypto';

/** The signed message of tlog-cosignature "cosignature/v1" (extension lines included, per the spec). */
export function cosignatureMessage(timestamp: bigint, checkpointText: string): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/** The published verifier key of a cosigner: type 0x04, so its key ID differs from the 0x01 note key. */
export function cosignatureVerifierKey(key: SignerKey): string {
  return formatVerifierKey(key.name, SIGNATURE_TYPE_COSIGNATURE_V1, key.publicKey);
}

function timestampBytes(timestamp: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, timestamp);
  return out;
}

/**
 * A Signer producing cosignature/v1 signatures. The key file is the Go note signer format (type 0x01
 * seed), as omniwitness's generate_keys writes; the key ID is derived over type 0x04.
 * `clock` returns POSIX seconds.
 */
export function cosignatureSigner(
  skey: string | SignerKey,
  clock: () => bigint = () => BigInt(Math.floor(Date.now() / 1000)),
): Signer {
  const key = typeof skey === 'string' ? parseSignerKey(skey) : skey;
  const privateKey = ed25519PrivateKeyObject(key.seed);
  const keyId = computeKeyId(key.name, concatBytes(new Uint8Array([SIGNATURE_TYPE_COSIGNATURE_V1]), key.publicKey));
  return {
    name: key.name,
    keyId,
    sign(text) {
      const timestamp = clock();
      if (timestamp < 0n || timestamp > MAX_INT64) throw new Error(`cosignature timestamp ${timestamp} out of range`);
      const message = concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), text);
      return concatBytes(timestampBytes(timestamp), new Uint8Array(edSign(null, message, privateKey)));
    },
  };
}

/** A Verifier for cosignature/v1 signatures, from a type 0x04 verifier key. */
export function cosignatureVerifier(vkey: string): Verifier {
  const key = parseVerifierKey(vkey);
  if (key.type !== SIGNATURE_TYPE_COSIGNATURE_V1) {
    throw new FormatError('UNKNOWN_KEY_ALGORITHM', `${key.name}: want a cosignature/v1 key (type 0x04), got type 0x${key.type.toString(16)}`);
  }
  if (key.publicKey.length !== 32) throw new FormatError('MALFORMED_VERIFIER_KEY', `${key.name}: Ed25519 key is not 32 bytes`);
  const publicKey = ed25519PublicKeyObject(key.publicKey);
  return {
    name: key.name,
    keyId: key.keyId,
    verify(text, signature) {
      if (signature.length !== 8 + 64) return false;
      const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
      if (timestamp > MAX_INT64) return false;
      return ed25519Verify(publicKey, concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), text), signature.subarray(8));
    },
  };
}

/** The timestamp carried by a cosignature/v1 signature line (no verification). */
export function cosignatureTimestamp(signature: NoteSignature): bigint {
  const sig = decodeBase64(signature.base64, 'MALFORMED_COSIGNATURE', 'cosignature');
  if (sig.length !== 4 + 8 + 64) {
    throw new FormatError('MALFORMED_COSIGNATURE', `cosignature of ${sig.length} bytes, want 76`);
  }
  const timestamp = new DataView(sig.buffer, sig.byteOffset + 4, 8).getBigUint64(0);
  if (timestamp > MAX_INT64) throw new VerificationError('MALFORMED_COSIGNATURE', 'cosignature timestamp exceeds 2^63-1');
  return timestamp;
}
