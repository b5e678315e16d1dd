// go-source-witness: the public library API. Everything the CLI does is callable from here.
export * from './errors.js';
export * from './tlog/encoding.js';
export * from './tlog/merkle.js';
export * from './tlog/tile.js';
export * from './tlog/note.js';
export * from './tlog/checkpoint.js';
export * from './tlog/cosignature.js';
export * from './log/record.js';
export * from './log/layout.js';
export { WitnessLog, type AppendResult } from './log/log.js';
export { LogReader, type OpenOptions } from './log/reader.js';
export { type LogSource, folderSource, httpSource, logSource } from './log/source.js';
export { verifyLogFolder, type VerifyOptions, type VerifyReport, type HistoryReport } from './log/verify.js';
export { loadSignerKey, generateSignerKeyFile, SIGNING_KEY_ENV, type KeySource } from './keyfile.js';
export * from './log/views.js';
export { CRASH_POINTS, type CrashPoint } from './log/crash-points.js';
export * from './embedded.js';
export * from './gitsrc/refname.js';
export * from './gitsrc/show-ref.js';
export * from './gitsrc/tags.js';
export * from './tags/record.js';
export * from './tags/state.js';
export * from './tags/update.js';
export * from './tags/compare.js';
// Go sumdb helpers, namespaced: their record functions are about sumdb records, not log records.
export * as dirhash from './sumdb/dirhash.js';
export * as sumdbRecord from './sumdb/record.js';
