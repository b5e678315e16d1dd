// The browser entry of the core probe: probeCore()'s JSON into <pre id="out"> (read back with --dump-dom).
import { probeCore } from './tlog-probe.js';

const out = document.getElementById('out')!;
probeCore().then(
  (result) => (out.textContent = JSON.stringify(result)),
  (error: unknown) => (out.textContent = `ERROR ${error instanceof Error ? `${error.message}\n${error.stack}` : String(error)}`),
);
