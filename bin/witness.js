#!/usr/bin/env node
// Entry point of the `witness` command. In a source checkout it runs the TypeScript sources through tsx
// (so it never runs stale output); an installed package runs the single-file bundle built by
// `npm run build` (dist/witness.mjs: one file loads faster than the module graph). Both export
// run(argv, io), which returns the exit code.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(source).href);
} else {
  cli = await import('../dist/witness.mjs');
}
process.exitCode = await cli.run(process.argv.slice(2));
