// Byte and text helpers shared by the tlog formats. Pure: no I/O.
import { type ErrorCode, FormatError } from '../errors.js';

const textEncoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/** Decodes UTF-8, rejecting invalid sequences (Go's utf8.Valid rules). */
export function decodeUtf8(bytes: Uint8Array, code: ErrorCode = 'MALFORMED_TEXT'): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new FormatError(code, 'invalid UTF-8', { cause: error });
  }
}

/** The longest base64 text decoded unless a caller asks for more: 48 MiB, more than any input accepted. */
export const MAX_BASE64_LENGTH = 48 * 1024 * 1024;

/** Whether `text` is padded standard base64 (RFC 4648 §4): one linear pass, no regular expression. */
function isPaddedBase64(text: string): boolean {
  const length = text.length;
  if (length % 4 !== 0) return false;
  let end = length;
  if (length > 0 && text.charCodeAt(length - 1) === 0x3d) end = text.charCodeAt(length - 2) === 0x3d ? length - 2 : length - 1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
    if (!ok) return false;
  }
  return true;
}

/**
 * Strict RFC 4648 §4 base64 with padding, as Go's base64.StdEncoding: Buffer.from(s, 'base64') would
 * silently skip invalid characters, so the alphabet, padding and a canonical round trip are checked.
 * Linear in the length, and refused beyond `maxLength` characters.
 */
export function decodeBase64(text: string, code: ErrorCode = 'MALFORMED_BASE64', what = 'base64', maxLength = MAX_BASE64_LENGTH): Uint8Array {
  if (text.length > maxLength) {
    throw new FormatError(code, `${what} is longer than the ${maxLength} characters accepted`);
  }
  if (!isPaddedBase64(text)) {
    throw new FormatError(code, `${what} is not valid padded base64`);
  }
  const bytes = Buffer.from(text, 'base64');
  // Non-zero trailing bits ("AB==" vs "AA==") decode the same; Go rejects them (strict mode is off in
  // StdEncoding, but non-canonical encodings would let one value have two spellings, so refuse them).
  if (bytes.toString('base64') !== text) {
    throw new FormatError(code, `${what} is not canonical base64`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function decodeHex(text: string, code: ErrorCode = 'MALFORMED_HEX', what = 'hex'): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new FormatError(code, `${what} is not lowercase hex`);
  }
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Canonical decimal of a non-negative integer: no sign, no leading zeros ("0" for zero). */
export function parseCanonicalUint(text: string, max: bigint, code: ErrorCode, what: string): bigint {
  if (!/^(?:0|[1-9][0-9]*)$/.test(text) || text.length > 20) {
    throw new FormatError(code, `${what} ${JSON.stringify(text)} is not a canonical decimal number`);
  }
  const value = BigInt(text);
  if (value > max) throw new FormatError(code, `${what} ${text} is too large`);
  return value;
}

export const MAX_INT64 = (1n << 63n) - 1n;
