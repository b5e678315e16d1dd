import { UsageError } from '../errors.js';
import { session } from './output.js';

/** Reads the command's standard input as UTF-8, refusing more than `maxBytes` (default 64 MiB). */
export async function readStdin(maxBytes = 64 * 1024 * 1024): Promise<string> {
  const stdin = session().io.stdin;
  if (stdin.isTTY) throw new UsageError('USAGE', '"-" reads `git show-ref --tags` output from stdin, but stdin is a terminal; pipe it in');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    total += bytes.length;
    if (total > maxBytes) throw new UsageError('USAGE', `standard input is larger than ${maxBytes} bytes`);
    chunks.push(bytes);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}
