// C2SP tlog-cosignature v1.0.1, "cosignature/v1": a timestamped Ed25519 signature (signature type 0x04)
// over "cosignature/v1\ntime <T>\n" + the checkpoint note text. Verification only: the signer, which needs
// the private key, is src/tlog-node/signer.ts cosignatureSigner.
import { FormatError, VerificationError } from '../errors.js';
import { MAX_INT64, concatBytes, decodeBase64, utf8 } from './encoding.js';
import { ed25519Verifier } from '#tlog-crypto';
import { SIGNATURE_TYPE_COSIGNATURE_V1, type NoteSignature, type SignerKey, type Verifier, formatVerifierKey, parseVerifierKey } from './note.js';

/** The signed message of tlog-cosignature "cosignature/v1" (extension lines included, per the spec). */
export function cosignatureMessage(timestamp: bigint, checkpointText: string): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/** The published verifier key of a cosigner: type 0x04, so its key ID differs from the 0x01 note key. */
export function cosignatureVerifierKey(key: SignerKey): string {
  return formatVerifierKey(key.name, SIGNATURE_TYPE_COSIGNATURE_V1, key.publicKey);
}

/** A Verifier for cosignature/v1 signatures, from a type 0x04 verifier key. */
export function cosignatureVerifier(vkey: string): Verifier {
  const key = parseVerifierKey(vkey);
  if (key.type !== SIGNATURE_TYPE_COSIGNATURE_V1) {
    throw new FormatError('UNKNOWN_KEY_ALGORITHM', `${key.name}: want a cosignature/v1 key (type 0x04), got type 0x${key.type.toString(16)}`);
  }
  if (key.publicKey.length !== 32) throw new FormatError('MALFORMED_VERIFIER_KEY', `${key.name}: Ed25519 key is not 32 bytes`);
  const verify = ed25519Verifier(key.publicKey);
  return {
    name: key.name,
    keyId: key.keyId,
    verify(text, signature) {
      if (signature.length !== 8 + 64) return false;
      const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
      if (timestamp > MAX_INT64) return false;
      return verify(concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), text), signature.subarray(8));
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
