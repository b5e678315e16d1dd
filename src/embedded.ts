// The embedded sample log shipped in `witness-log/`: its origin and pinned verifier key. The private key
// never enters this repository.
export const EMBEDDED_LOG_ORIGIN = 'go-source-witness.example/log';
export const EMBEDDED_LOG_VERIFIER_KEY = 'go-source-witness.example/log+a7e0835e+AffC5fUQmI9/ubQEXA3KNF9M50c5Caiy7odEL5Sj06Vv';
