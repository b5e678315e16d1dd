// builds.txt, the log's view of its build records (registered with the log in src/witness-schema.ts):
// `<log index> <version> <target> [<env>...] <status> <module zip h1 | failure phase>` per build record,
// in log order; it exists once there is one.
import { VerificationError } from '../errors.js';
import type { RecordFold } from '../log/schema.js';
import { tagRecordNames } from '../tags/record.js';
import { TAGS_VIEW } from '../tags/view.js';
import { BUILD_RECORD_TYPE, type BuildRecord, buildRecordFromLogRecord, buildStatus, moduleZipHash, sameBuild } from './record.js';

/** The readable index of builds: one line per build record, in log order (exists once there is one). */
export const BUILDS_FILE = 'builds.txt';

/**
 * Parsing each record checks its format, and that its tag-index names a tag record of the same release
 * tag with the same commit and tree (the tag the build was checked against).
 */
export const BUILDS_VIEW: RecordFold<string | undefined> = {
  name: 'builds',
  recordTypes: [BUILD_RECORD_TYPE],
  viewFiles: [{ name: BUILDS_FILE, maxBytes: 64 * 1024 * 1024 }],
  fold: (records, earlier) => {
    const tags = earlier.stateOf(TAGS_VIEW);
    const lines: string[] = [];
    const tagRecords = new Map(tags.history.map((entry) => [entry.index, entry.record]));
    const builds = new Map<bigint, BuildRecord>();
    for (const { index, record } of records) {
      let build;
      try {
        build = buildRecordFromLogRecord(record);
      } catch (error) {
        throw new VerificationError('BUILD_RECORD_INVALID', `log index ${index}: ${(error as Error).message}`, { cause: error });
      }
      const tag = tagRecords.get(build.tagIndex);
      if (build.tagIndex >= index || !tagRecordNames(tag, `refs/tags/${build.version}`, build.commit, build.tree)) {
        throw new VerificationError('BUILD_RECORD_INVALID', `log index ${index}: build of ${build.version} names tag record ${build.tagIndex}, which is not an earlier record of refs/tags/${build.version} at commit ${build.commit}`);
      }
      // A re-evaluation (`witness ingest --recheck`) must cite an earlier build record of the very same build.
      if (build.recheckOf !== undefined) {
        const cited = builds.get(build.recheckOf);
        if (build.recheckOf >= index || !cited || !sameBuild(cited, build)) {
          throw new VerificationError('BUILD_RECORD_INVALID', `log index ${index}: recheck-of ${build.recheckOf} is not an earlier build record of the same build`);
        }
      }
      builds.set(index, build);
      const status = buildStatus(build);
      lines.push([String(index), build.version, build.target, ...build.env, status, status === 'failed' ? `failed:${build.failure!.split(':')[0]}` : moduleZipHash(build)!].join(' '));
    }
    if (lines.length === 0) return undefined;
    return `# go-source-witness builds: <log index> <version> <target> [<env>] <equal|unequal|unchecked|failed> <module zip h1>\n${lines.join('\n')}\n`;
  },
  views: (content) => (content === undefined ? [] : [[BUILDS_FILE, content]]),
};
