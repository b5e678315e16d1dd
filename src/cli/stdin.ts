import { UsageError } from '../errors.js';

/** Reads standard input as UTF-8, refusing more than `maxBytes` (default 64 MiB). */
export async function readStdin(maxBytes = 64 * 1024 * 1024): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('"-" reads `git show-ref --tags` output from stdin, but stdin is a terminal; pipe it in');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new UsageError(`standard input is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks);
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(text);
  return decoded;
}
