import { homedir } from 'node:os';
import path from 'node:path';

/** Default witness state folder: $WITNESS_STATE_DIR, else $XDG_STATE_HOME/go-source-witness, else ~/.local/state/go-source-witness. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WITNESS_STATE_DIR) return env.WITNESS_STATE_DIR;
  const base = env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
  return path.join(base, 'go-source-witness');
}
