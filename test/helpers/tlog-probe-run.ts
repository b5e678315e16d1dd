// Prints probeCore() as JSON (for `node --conditions=browser`, which gives the core its @noble seam).
import { probeCore } from './tlog-probe.js';

process.stdout.write(JSON.stringify(await probeCore()));
