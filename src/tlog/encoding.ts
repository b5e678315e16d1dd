// Byte and text helpers shared by the tlog formats: UTF-8, base64 (RFC 4648 §4), hex. Pure: no I/O,
// no node built-in, so the same code runs in Node and in a browser.
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

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/**
 * UTF-16 code unit -> 6-bit value, -1 outside the standard alphabet (RFC 4648 §4, Table 1). A table of all
 * 65,536 code units (128 KiB) needs no range check per character: decoding a 32-byte hash is then about
 * twice as fast as Buffer.from(text, 'base64') with the round trip that strictness needed.
 */
const BASE64_VALUES = new Int16Array(65536).fill(-1);
for (let i = 0; i < 64; i++) BASE64_VALUES[BASE64_ALPHABET.charCodeAt(i)] = i;
const BASE64_CODES = Uint8Array.from(BASE64_ALPHABET, (c) => c.charCodeAt(0));
const asciiDecoder = new TextDecoder();

function invalidBase64(code: ErrorCode, what: string): FormatError {
  return new FormatError(code, `${what} is not valid padded base64`);
}

/**
 * Strict RFC 4648 §4 base64 with padding, as Go's base64.StdEncoding: only the alphabet, `=` padding at
 * the end, and canonical encodings (zero bits after the last byte, RFC 4648 §3.5: "AB==" is refused,
 * since one value must have one spelling). One linear pass, refused beyond `maxLength` characters.
 */
export function decodeBase64(text: string, code: ErrorCode = 'MALFORMED_BASE64', what = 'base64', maxLength = MAX_BASE64_LENGTH): Uint8Array {
  if (text.length > maxLength) {
    throw new FormatError(code, `${what} is longer than the ${maxLength} characters accepted`);
  }
  const length = text.length;
  if (length % 4 !== 0) throw invalidBase64(code, what);
  if (length === 0) return new Uint8Array(0);
  const padding = text.charCodeAt(length - 1) !== 0x3d ? 0 : text.charCodeAt(length - 2) === 0x3d ? 2 : 1;
  const out = new Uint8Array((length / 4) * 3 - padding);
  const full = padding === 0 ? length : length - 4;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const a = BASE64_VALUES[text.charCodeAt(i)]!;
    const b = BASE64_VALUES[text.charCodeAt(i + 1)]!;
    const c = BASE64_VALUES[text.charCodeAt(i + 2)]!;
    const d = BASE64_VALUES[text.charCodeAt(i + 3)]!;
    if ((a | b | c | d) < 0) throw invalidBase64(code, what);
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = bits >> 16;
    out[o++] = (bits >> 8) & 0xff;
    out[o++] = bits & 0xff;
  }
  if (padding > 0) {
    const a = BASE64_VALUES[text.charCodeAt(full)]!;
    const b = BASE64_VALUES[text.charCodeAt(full + 1)]!;
    const c = padding === 1 ? BASE64_VALUES[text.charCodeAt(full + 2)]! : 0;
    if ((a | b | c) < 0) throw invalidBase64(code, what);
    if ((padding === 2 ? b & 0x0f : c & 0x03) !== 0) throw new FormatError(code, `${what} is not canonical base64`);
    out[o++] = (a << 2) | (b >> 4);
    if (padding === 1) out[o] = ((b & 0x0f) << 4) | (c >> 2);
  }
  return out;
}

/** Standard padded base64 (RFC 4648 §4). */
export function encodeBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const bits = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = BASE64_CODES[bits >> 18]!;
    out[o++] = BASE64_CODES[(bits >> 12) & 0x3f]!;
    out[o++] = BASE64_CODES[(bits >> 6) & 0x3f]!;
    out[o++] = BASE64_CODES[bits & 0x3f]!;
  }
  if (i < bytes.length) {
    const two = i + 1 < bytes.length;
    const bits = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out[o++] = BASE64_CODES[bits >> 18]!;
    out[o++] = BASE64_CODES[(bits >> 12) & 0x3f]!;
    out[o++] = two ? BASE64_CODES[(bits >> 6) & 0x3f]! : 0x3d;
    out[o++] = 0x3d;
  }
  return asciiDecoder.decode(out);
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex. */
export function encodeHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTES[bytes[i]!]!;
  return out;
}

/** Lowercase hex only (as Go's hex.EncodeToString writes it). */
export function decodeHex(text: string, code: ErrorCode = 'MALFORMED_HEX', what = 'hex'): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new FormatError(code, `${what} is not lowercase hex`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
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
