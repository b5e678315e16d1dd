// isomorphic-git uses Node's `Buffer` as a global; in the verify page's bundle every free `Buffer` is this
// export of the `buffer` package (the browser implementation of Node's Buffer, as browserify and
// webpack 4 provided it), through esbuild's `inject` (scripts/build-verify-bundle.ts): no global is set.
export { Buffer } from 'buffer';
