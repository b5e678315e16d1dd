// The witness's own version: package.json's "version", read from the package this code ships in (src/
// and dist/ both sit next to package.json), so a checkout and an installed package report the same.
// It is recorded as the builder of every build result.
import { readFileSync } from 'node:fs';

export const WITNESS_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
