// A static Go sumdb for benchmarks, in its own process (so it does not share the event loop of what is
// measured): serves <folder>/latest and <folder>/tile/... on 127.0.0.1 and prints the port.
// Usage: node --import tsx scripts/bench/tile-server.ts <folder>
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? '.');
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x').pathname;
  if (!/^\/(latest|tile\/8\/(data|[0-9]+)\/[x0-9/]+(\.p\/[0-9]+)?)$/.test(url)) {
    res.writeHead(404).end();
    return;
  }
  const file = path.join(root, ...url.split('/').filter(Boolean));
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Length': info.size, 'Content-Type': url.includes('/data/') || url === '/latest' ? 'text/plain; charset=UTF-8' : 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
