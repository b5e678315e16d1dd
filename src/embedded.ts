// The embedded sample log shipped in `witness-log/`: its origin and pinned verifier key. The private key
// never enters this repository.
import { fileURLToPath } from 'node:url';

export const EMBEDDED_LOG_ORIGIN = 'go-source-witness.example/log';
export const EMBEDDED_LOG_VERIFIER_KEY = 'go-source-witness.example/log+a7e0835e+AffC5fUQmI9/ubQEXA3KNF9M50c5Caiy7odEL5Sj06Vv';

/** The embedded log folder shipped with the package (next to src/ and dist/). */
export const EMBEDDED_LOG_DIR = fileURLToPath(new URL('../witness-log/', import.meta.url));
