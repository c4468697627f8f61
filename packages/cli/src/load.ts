import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AgoraServer } from '@agora/core'
import { AgoraError, isAgoraServer } from '@agora/core'

/**
 * Imports a module (or a project directory's `src/server.ts`) and returns its default export,
 * which must be an Agora server (`export default createServer(...)`). Every failure is a one-line
 * `MODULE_LOAD` error.
 *
 * @example
 * ```ts
 * const server = await loadServer('examples/weather/src/server.ts')
 * ```
 */
export async function loadServer(path: string, cwd = process.cwd()): Promise<AgoraServer> {
  let file = resolve(cwd, path)
  if (!existsSync(file)) throw new AgoraError('MODULE_LOAD', `${path}: no such file`)
  if (statSync(file).isDirectory()) {
    // A project directory: serve its conventional entry point.
    file = join(file, 'src', 'server.ts')
    if (!existsSync(file))
      throw new AgoraError('MODULE_LOAD', `${path} is a directory without src/server.ts; give the module file`)
  }
  let mod: { default?: unknown }
  try {
    mod = await import(pathToFileURL(file).href)
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err)
    throw new AgoraError('MODULE_LOAD', `cannot load ${path}: ${message}`, { cause: err })
  }
  if (!isAgoraServer(mod.default)) {
    const found = mod.default === undefined ? 'no default export' : `a default export that is not an Agora server`
    throw new AgoraError('MODULE_LOAD', `${path} has ${found}; it must end with: export default createServer({ ... })`)
  }
  return mod.default
}
