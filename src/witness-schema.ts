// The witness log's schema: which records the log's views are derived from and which invariants every
// append and `witness verify` check, in this order (the first broken invariant is the one reported).
// src/log/ knows no record type; the domains define their folds and this module, outside every domain,
// puts them together and installs them. The library (src/index.ts) and the CLI (src/cli/main.ts)
// import it; so does anything that opens a log through src/log/ directly (tests, benchmarks).
import { LogSchema, installLogSchema } from './log/schema.js';
import { TAGS_VIEW } from './tags/view.js';
import { BUILDS_VIEW } from './rebuild/builds-view.js';
import { TOOLCHAINS_VIEW } from './toolchains/ledger.js';
import { BOOTSTRAP_INVARIANTS } from './rebuild/bootstrap-record.js';
import { AGREEMENT_INVARIANTS } from './rebuild/agreement.js';
import { COSIGNED_VIEW } from './cosign/records.js';

export const WITNESS_LOG_SCHEMA = new LogSchema([TAGS_VIEW, BUILDS_VIEW, TOOLCHAINS_VIEW, BOOTSTRAP_INVARIANTS, AGREEMENT_INVARIANTS, COSIGNED_VIEW]);

installLogSchema(WITNESS_LOG_SCHEMA);
