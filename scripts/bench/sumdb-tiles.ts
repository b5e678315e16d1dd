// Benchmark: tile fetches per `sumdb cosign` round for a log that grew by k entries, counted by the sumdb
// test server, against the minimum the tile layout allows (the distinct tiles the consistency proof needs,
// tilesForConsistencyProof), cold and with the previous round's authenticated tiles cached.
import { SumdbClient } from '../../src/sumdb/client.js';
import { tilesForConsistencyProof } from '../../src/tlog/tile.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord } from '../../test/helpers/sumdb-server.js';

export async function benchSumdbTiles(): Promise<void> {
  const log = new SumdbTestLog();
  const record = (i: number) => syntheticGoSumRecord(i, 'b');
  while (log.size < 100_000) log.append(record(log.size));
  const server = await startSumdbServer(log);
  try {
    const client = new SumdbClient({ baseUrl: server.url, verifierKey: log.verifierKey });
    console.log('sumdb tiles: fetches per cosign round, log of 100,000+ records growing by k (counted by the test server)');
    console.log('  k        old size   new size   minimum (tiles the proof needs)   fetched cold   fetched, cache warm');
    let previous = await client.latest();
    for (const k of [1, 10, 100, 1_000, 10_000]) {
      for (let i = 0; i < k; i++) log.append(record(log.size));
      const cold = new SumdbClient({ baseUrl: server.url, verifierKey: log.verifierKey });
      const next = await client.latest();
      const minimum = tilesForConsistencyProof(previous.checkpoint.size, next.checkpoint.size).length;
      const before = server.requests.filter((path) => path.includes('/tile/')).length;
      await cold.proveConsistency(previous.checkpoint, (await cold.latest()).checkpoint);
      const coldFetches = server.requests.filter((path) => path.includes('/tile/')).length - before;
      const warmBefore = server.requests.filter((path) => path.includes('/tile/')).length;
      await client.proveConsistency(previous, next);
      const warmFetches = server.requests.filter((path) => path.includes('/tile/')).length - warmBefore;
      console.log(
        `  ${String(k).padEnd(8)} ${String(previous.checkpoint.size).padEnd(10)} ${String(next.checkpoint.size).padEnd(10)} ${String(minimum).padEnd(33)} ${String(coldFetches).padEnd(14)} ${warmFetches}`,
      );
      if (coldFetches > minimum) console.log(`  NOT MET: fetched ${coldFetches} tiles, the layout needs ${minimum}`);
      previous = next;
    }
  } finally {
    await server.close();
  }
}
