// Node's module compile cache for the command line: the TypeScript sources are stripped and
// compiled on every start (about 0.2 s of CPU for the CLI, as much again for each scan worker
// thread); with the cache, V8's code for them is read from disk instead.
//
// The cache holds code that V8 loads and runs, so it lives only where nobody else can write: by
// default `$XDG_CACHE_HOME/jwt-redactor/compile-cache` (else `~/.cache/...`), created mode 0700,
// and used only when it and its parent are real directories owned by this user that no group or
// other user can write. Node's own default, a shared folder under the system temp directory, is
// never used. `NODE_COMPILE_CACHE=dir` chooses another folder (the user's own choice, used as
// given); `NODE_DISABLE_COMPILE_CACHE=1` turns the cache off. Worker threads inherit the folder
// through NODE_COMPILE_CACHE. Never throws: without a cache the CLI only starts slower.
import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export interface CompileCacheState {
  enabled: boolean;
  directory?: string;
  /** Why it is off, when it is. */
  reason?: string;
}

type Enable = (directory: string) => { status: number; directory?: string; message?: string };

/** The default cache folder for an environment, and the folders it is in that must be private too. */
export function defaultCacheDirectory(
  env: NodeJS.ProcessEnv,
  home: string = homedir(),
): { directory: string; within: string[] } {
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.cache');
  const ours = join(base, 'jwt-redactor');
  return { directory: join(ours, 'compile-cache'), within: [base, ours] };
}

/** Why `path` is not a private directory of this user, or undefined when it is. */
export function notPrivate(path: string, uid: number | undefined = process.getuid?.()): string | undefined {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return `${path} does not exist`;
  }
  if (!st.isDirectory()) return `${path} is not a directory`;
  if (uid !== undefined && st.uid !== uid) return `${path} belongs to another user`;
  if ((st.mode & 0o022) !== 0) return `${path} can be written by others`;
  return undefined;
}

export function enableCompileCache(
  env: NodeJS.ProcessEnv = process.env,
  enable: Enable | null = (module as { enableCompileCache?: Enable }).enableCompileCache ?? null,
): CompileCacheState {
  if (enable === null) return { enabled: false, reason: 'this Node.js has no compile cache' };
  if (env['NODE_DISABLE_COMPILE_CACHE'] !== undefined)
    return { enabled: false, reason: 'NODE_DISABLE_COMPILE_CACHE is set' };
  let directory = env['NODE_COMPILE_CACHE'];
  if (directory === undefined || directory === '') {
    const def = defaultCacheDirectory(env);
    directory = def.directory;
    try {
      mkdirSync(directory, { recursive: true, mode: 0o700 });
    } catch {
      return { enabled: false, reason: `cannot create ${directory}` };
    }
    // Nobody else may write the folder, or swap it or a folder it is in.
    for (const d of [...def.within, directory]) {
      const why = notPrivate(d);
      if (why !== undefined) return { enabled: false, reason: why };
    }
  }
  let result: ReturnType<Enable>;
  try {
    result = enable(directory);
  } catch (error) {
    return { enabled: false, reason: error instanceof Error ? error.message : String(error) };
  }
  if (result.directory === undefined) return { enabled: false, reason: result.message ?? 'not enabled' };
  env['NODE_COMPILE_CACHE'] = result.directory;
  return { enabled: true, directory: result.directory };
}
