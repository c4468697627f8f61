/**
 * A real PostgreSQL for tests: `AGORA_TEST_POSTGRES_URL` when set, otherwise a throwaway cluster
 * (`initdb` into a temp dir, `pg_ctl start` on 127.0.0.1 with a free port and a private socket
 * dir) that `stop()` shuts down and deletes. PostgreSQL refuses to run as root, so as root the
 * cluster runs as the `postgres` user. No binaries at all is an error, not a skip: CI installs them.
 */
import { execFile, execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

export interface TestPostgres {
  /** The server's admin URL. */
  readonly url: string
  /** Creates an empty database and returns its URL (dropped by `stop()`). */
  freshDatabase(): Promise<string>
  stop(): Promise<void>
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.AGORA_TEST_POSTGRES_URL
  if (external) return withDatabases(external, async () => {})
  const bin = findPostgresBin()
  if (!bin) {
    throw new Error(
      'PostgreSQL tests need a server: set AGORA_TEST_POSTGRES_URL, or install PostgreSQL (Debian: apt-get install postgresql; ' +
        '.ci/run does this) so that initdb and pg_ctl exist under /usr/lib/postgresql/*/bin or on PATH',
    )
  }
  const asRoot = process.getuid?.() === 0
  reapOrphans(bin, asRoot)
  const dir = mkdtempSync(join(tmpdir(), 'agora-pg-'))
  writeFileSync(join(dir, 'owner.pid'), String(process.pid))
  const data = join(dir, 'data')
  const log = join(dir, 'server.log')
  if (asRoot) chownSync(dir, ...postgresIds())
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args)
  const port = await freePort()
  const stopSync = () => {
    const pgCtl = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']
    try {
      execFileSync(asRoot ? 'runuser' : pgCtl[0]!, asRoot ? ['-u', 'postgres', '--', ...pgCtl] : pgCtl.slice(1), {
        stdio: 'ignore',
      })
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', stopSync)
  try {
    await as('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'])
    const settings = `-c listen_addresses=127.0.0.1 -p ${port} -k '${dir}' -c fsync=off -c full_page_writes=off`
    await as('pg_ctl', ['-D', data, '-l', log, '-o', settings, '-w', '-t', '30', 'start'])
  } catch (err) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : ''
    stopSync()
    throw new Error(`could not start a test PostgreSQL from ${bin}: ${(err as Error).message}\n${tail}`)
  }
  return withDatabases(`postgres://postgres@127.0.0.1:${port}/postgres`, async () => {
    process.removeListener('exit', stopSync)
    stopSync()
  })
}

/**
 * Adds fresh-database bookkeeping to a server URL. `CREATE DATABASE` takes ~100-300 ms, so the
 * next database is made while the current test runs.
 */
async function withDatabases(url: string, shutdown: () => Promise<void>): Promise<TestPostgres> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const created: string[] = []
  const create = async () => {
    const name = `agora_test_${process.pid}_${created.length}_${Math.random().toString(36).slice(2, 8)}`
    created.push(name)
    await admin.query(`create database ${name}`)
    const u = new URL(url)
    u.pathname = `/${name}`
    return u.toString()
  }
  let next: Promise<string> | undefined
  return {
    url,
    freshDatabase() {
      const current = next ?? create()
      next = create()
      next.catch(() => {}) // reported when it is handed out
      return current
    },
    async stop() {
      await next?.catch(() => {})
      for (const name of created) await admin.query(`drop database if exists ${name} with (force)`).catch(() => {})
      await admin.end()
      await shutdown()
    },
  }
}

/**
 * A test process killed outright (SIGKILL, a CI timeout) leaves its cluster running, since
 * `pg_ctl` daemonizes it: stop and delete every cluster whose owning process is gone.
 */
function reapOrphans(bin: string, asRoot: boolean): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('agora-pg-')) continue
    const dir = join(tmpdir(), name)
    const owner = Number(readFileSafe(join(dir, 'owner.pid')))
    if (!owner || alive(owner)) continue
    const pgCtl = [join(bin, 'pg_ctl'), '-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']
    try {
      if (existsSync(join(dir, 'data', 'postmaster.pid'))) {
        execFileSync(asRoot ? 'runuser' : pgCtl[0]!, asRoot ? ['-u', 'postgres', '--', ...pgCtl] : pgCtl.slice(1), {
          stdio: 'ignore',
        })
      }
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The newest `/usr/lib/postgresql/<version>/bin` with `initdb`, else the directory of `initdb` on PATH. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a)) : []
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin')
  for (const p of (process.env.PATH ?? '').split(':')) if (p && existsSync(join(p, 'initdb'))) return p
  return undefined
}

function postgresIds(): [number, number] {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    return [uid, gid]
  } catch {
    throw new Error('running as root, the test PostgreSQL needs a "postgres" user (the Debian postgresql package creates it)')
  }
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
