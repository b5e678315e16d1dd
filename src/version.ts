// The witness's own version, recorded as the builder of every build result (kept equal to package.json's
// "version" by test/build.test.ts).
export const WITNESS_VERSION = '0.1.0';
