// Writes dist/package.json for `npm run build`: the package scope of the compiled files, with the
// package's `imports` mapped from src/*.ts to the compiled dist/*.js. Node resolves `#tlog-crypto` from
// the nearest package.json, so the compiled core in dist/ gets node:crypto (src/tlog-crypto/node.ts ->
// dist/tlog-crypto/node.js) and @noble elsewhere, by the same conditions as the sources (package.json).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Targets = string | { [condition: string]: Targets };

/** `./src/x.ts` (relative to the package) as `./x.js` (relative to dist/). */
function compiled(target: Targets): Targets {
  if (typeof target === 'string') {
    if (!/^\.\/src\/.+\.ts$/.test(target)) throw new Error(`package.json imports: ${target} is not a ./src/*.ts file`);
    return `./${target.slice('./src/'.length, -'.ts'.length)}.js`;
  }
  return Object.fromEntries(Object.entries(target).map(([condition, inner]) => [condition, compiled(inner)]));
}

const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { type: string; imports: Record<string, Targets> };
const dist = { type: pkg.type, imports: Object.fromEntries(Object.entries(pkg.imports).map(([name, target]) => [name, compiled(target)])) };
await writeFile(path.join(ROOT, 'dist', 'package.json'), `${JSON.stringify(dist, null, 2)}\n`);
