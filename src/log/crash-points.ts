// Named points inside an append where tests can make the process die (SIGKILL, as a crash would), to
// prove each intermediate state recovers. Set GO_SOURCE_WITNESS_CRASH_POINT to one of CRASH_POINTS.
export const CRASH_POINTS = [
  'after-tiles',
  'after-checkpoint',
  'after-views',
  'after-private-index',
  'after-index-reset',
  'after-update-ref',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export function crashPoint(name: CrashPoint): void {
  if (process.env.GO_SOURCE_WITNESS_CRASH_POINT === name) process.kill(process.pid, 'SIGKILL');
}
