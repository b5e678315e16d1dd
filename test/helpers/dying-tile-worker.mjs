// A tile-checking worker for test/toolchains-tiles.test.ts that says it is ready, then dies (exit code 3)
// once it holds two messages: as a worker would that crashes while its next message waits in its port.
import { parentPort } from 'node:worker_threads';

let held = 0;
parentPort.postMessage('ready');
parentPort.on('message', () => {
  held++;
  if (held === 2) process.exit(3);
});
