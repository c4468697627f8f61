import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Started } from './helpers.ts'
import { AGORA, agora, ENV, repo, run, start } from './helpers.ts'

const ECHO = repo('packages/cli/test/fixtures/echo-server.ts')
const API_KEY = 'sk-cli-test-0001'

interface ServeReady {
  event: string
  http: string
  name: string
  version: string
  pid: number
}

/** One line on stderr, no stack trace. */
const oneLine = (stderr: string) => {
  expect(stderr.trim().split('\n')).toHaveLength(1)
  expect(stderr).not.toMatch(/\n\s+at /)
}

describe('agora', () => {
  it('--version and --help exit 0', async () => {
    const verbs = ['serve', 'dev', 'init', 'tools', 'call']
    const [version, ...helps] = await Promise.all([agora(['--version']), ...verbs.map((verb) => agora([verb, '--help']))])
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' })
    helps.forEach((help, i) => {
      expect(help.code).toBe(0)
      expect(help.stdout).toContain(`Usage: agora ${verbs[i]}`)
    })
  })

  it('exits 2 on an unknown verb or flag', async () => {
    expect((await agora(['frobnicate'])).code).toBe(2)
    expect((await agora(['tools', 'http://127.0.0.1:1/mcp', '--nope'])).code).toBe(2)
  })
})

describe('agora serve --json, then tools and call against it', () => {
  let server: Started<ServeReady>
  let url: string
  beforeAll(async () => {
    server = await start<ServeReady>('node', [AGORA, 'serve', ECHO, '--http', '127.0.0.1:0', '--json'])
    url = server.ready.http
  })
  afterAll(async () => {
    expect(await server?.stop()).toBe(0)
  })

  it('prints the ready line first', () => {
    expect(server.ready).toEqual({
      event: 'ready',
      http: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/),
      name: 'echo',
      version: '1.2.3',
      pid: expect.any(Number),
    })
    expect(server.ready.http).not.toMatch(/:0\//)
  })

  it('tools: a readable table, or the raw list with --json', async () => {
    const human = await agora(['tools', url])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^echo 1\.2\.3: 4 tools\n/)
    expect(human.stdout).toMatch(/echo\(text\)\s+\[free\] Echoes text/)
    expect(human.stdout).toMatch(/premium\(\)\s+\[0\.5 USDC\] Costs money/)
    const json = await agora(['tools', url, '--json'])
    expect(JSON.parse(json.stdout).tools.map((t: { name: string }) => t.name)).toEqual(['echo', 'fail', 'whoami', 'premium'])
  })

  it('tools and call --protocol: speak 2026-07-28 (or auto); a bad value is a usage error', async () => {
    for (const protocol of ['2026-07-28', 'auto']) {
      const json = await agora(['tools', url, '--json', '--protocol', protocol])
      expect(json.code).toBe(0)
      expect(JSON.parse(json.stdout).tools).toHaveLength(4)
    }
    const call = await agora(['call', url, 'echo', '--args', '{"text":"modern"}', '--protocol', '2026-07-28'])
    expect(call).toMatchObject({ code: 0, stdout: 'modern\n' })
    const bad = await agora(['tools', url, '--protocol', 'newest'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--protocol expects legacy, auto or a revision such as 2026-07-28/)
  })

  it('call: prints text content, or the raw result with --json', async () => {
    const human = await agora(['call', url, 'echo', '--args', '{"text":"hello there"}'])
    expect(human).toMatchObject({ code: 0, stdout: 'hello there\n', stderr: '' })
    const json = await agora(['call', url, 'echo', '--args', '{"text":"hi"}', '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({ content: [{ type: 'text', text: 'hi' }] })
  })

  it('call: exits 1 on an isError result', async () => {
    const human = await agora(['call', url, 'fail'])
    expect(human.code).toBe(1)
    expect(human.stderr).toBe('agora: fail returned an error: this tool always fails\n')
    const json = await agora(['call', url, 'fail', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ isError: true })
  })

  it('call: exits 1 on a JSON-RPC error, printing its message and code', async () => {
    const unknown = await agora(['call', url, 'nope'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe('agora: Unknown tool: nope (NOT_FOUND, JSON-RPC -32602)\n')
    const json = await agora(['call', url, 'nope', '--json'])
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: -32602, message: 'Unknown tool: nope', data: { code: 'NOT_FOUND', tool: 'nope' } },
    })
    const badArgs = await agora(['call', url, 'echo', '--args', '{"text":1}'])
    expect(badArgs.code).toBe(1)
    expect(badArgs.stderr).toMatch(/INVALID_PARAMS, JSON-RPC -32602/)
    const unpaid = await agora(['call', url, 'premium'])
    expect(unpaid.code).toBe(1)
    expect(unpaid.stderr).toMatch(/costs 0\.5 USDC.*\(PAYMENT_UNAVAILABLE, JSON-RPC -31402\)/)
  })

  it('call: exits 2 on malformed --args', async () => {
    const malformed = await agora(['call', url, 'echo', '--args', '{text:'])
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toMatch(/^agora: --args is not valid JSON/)
    oneLine(malformed.stderr)
    const notObject = await agora(['call', url, 'echo', '--args', '[1,2]'])
    expect(notObject.code).toBe(2)
    expect(notObject.stderr).toMatch(/--args must be a JSON object/)
  })

  it('sends --api-key and --header', async () => {
    const [anonymous, keyed, headed] = await Promise.all([
      agora(['call', url, 'whoami']),
      agora(['call', url, 'whoami', '--api-key', API_KEY]),
      agora(['call', url, 'whoami', '--header', `X-API-Key: ${API_KEY}`]),
    ])
    expect(anonymous.stdout).toMatch(/^ip:/)
    expect(keyed.stdout).toBe('key:bob\n')
    expect(headed.stdout).toBe('key:bob\n')
    const wrong = await agora(['call', url, 'whoami', '--api-key', 'sk-wrong-key-000'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/Invalid API key \(UNAUTHENTICATED/)
    expect((await agora(['call', url, 'whoami', '--header', 'no colon'])).code).toBe(2)
  })

  it('fails in one line on bad or unreachable targets', async () => {
    const bad = await agora(['tools', 'localhost:3000'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/unrecognized target "localhost:3000": use one of http\(s\):\/\/.*, stdio:<command line>/)
    oneLine(bad.stderr)
    const refused = await agora(['tools', url.replace(/:\d+\//, ':1/')])
    expect(refused.code).toBe(1)
    oneLine(refused.stderr)
  })
})

describe('agora serve', () => {
  it('serves over stdio for tools and call with a stdio: target', async () => {
    const target = `stdio:node ${AGORA} serve ${ECHO} --stdio`
    const result = await agora(['call', target, 'echo', '--args', '{"text":"over stdio"}'])
    expect(result).toMatchObject({ code: 0, stdout: 'over stdio\n' })
    const keyed = await agora(['call', target, 'whoami', '--api-key', API_KEY])
    expect(keyed.stdout).toBe('key:bob\n')
  })

  it('puts the ready line on stderr under --stdio, and exits when stdin closes', async () => {
    const result = await agora(['serve', ECHO, '--stdio', '--json']) // stdin is /dev/null
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect(JSON.parse(result.stderr.trim().split('\n')[0] ?? '')).toEqual({
      event: 'ready',
      stdio: true,
      name: 'echo',
      version: '1.2.3',
      pid: expect.any(Number),
    })
  })

  it('prints a banner on stderr without --json, and stops cleanly on SIGTERM', async () => {
    const child = spawn('node', [AGORA, 'serve', ECHO, '--http', '127.0.0.1:0'], { cwd: repo(''), env: ENV })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${stderr}`)), 15_000)
      child.stderr.on('data', (d) => {
        stderr += d
        if (stderr.includes('Stop with Ctrl-C')) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    expect(stderr).toMatch(/serving echo 1\.2\.3/)
    expect(stderr).toMatch(/MCP endpoint {2}http:\/\/127\.0\.0\.1:\d+\/mcp/)
    expect(stderr).toMatch(/premium\(\)\s+\[0\.5 USDC\]/)
    child.kill('SIGTERM')
    const code = await exited
    expect(code, `${stderr} ${child.signalCode}`).toBe(0)
    expect(stdout).toBe('')
  })

  it('rejects a module path that does not exist', async () => {
    const result = await agora(['serve', 'does/not/exist.ts'])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('agora: does/not/exist.ts: no such file\n')
  })

  it('rejects modules that do not default-export a server', async () => {
    for (const fixture of ['no-export', 'not-a-server']) {
      const result = await agora(['serve', `packages/cli/test/fixtures/${fixture}.ts`])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/it must end with: export default createServer\(\{ \.\.\. \}\)/)
      oneLine(result.stderr)
    }
  })

  it('rejects a bad --http value with exit 2', async () => {
    const result = await agora(['serve', ECHO, '--http', 'nowhere'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--http expects HOST:PORT/)
  })

  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p))
  it.runIf(systemNode)('runs under an older system Node by re-executing with Node 22, forwarding signals', async () => {
    const version = await run(systemNode!, [AGORA, '--version'])
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' })
    const server = await start<ServeReady>(systemNode!, [AGORA, 'serve', ECHO, '--http', '127.0.0.1:0', '--json'])
    try {
      const exited = new Promise<number | null>((resolve) => server.child.on('exit', resolve))
      server.child.kill('SIGTERM') // the launcher only; it must pass the signal on
      expect(await exited).toBe(0)
      expect(() => process.kill(server.ready.pid, 0)).toThrow()
    } finally {
      await server.stop()
    }
  })
})

describe('agora init', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'agora-init-'))
    dirs.push(d)
    return d
  }

  it('refuses a non-empty directory', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'keep.txt'), 'x')
    const result = await agora(['init', dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/is not empty/)
    expect(readdirSync(dir)).toEqual(['keep.txt'])
  })

  it('scaffolds a project that installs and serves with one command', async () => {
    const dir = join(tempDir(), 'my-server')
    const created = await agora(['init', dir, '--name', 'My Server'])
    expect(created.code).toBe(0)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    expect(pkg).toMatchObject({
      name: 'my-server',
      type: 'module',
      scripts: { start: 'agora serve src/server.ts --http 127.0.0.1:3000' },
      dependencies: { '@agora/core': `file:${repo('packages/core')}`, '@agora/cli': `file:${repo('packages/cli')}` },
    })
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('npm start')

    // The dependencies are file: links to this checkout (and zod, already in the npm cache).
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 45_000 })
    expect(install.code, install.stderr).toBe(0)
    // `npm start`, with the port moved to a free one (commander keeps the last --http).
    const server = await start<ServeReady>('npm', ['start', '--silent', '--', '--http', '127.0.0.1:0', '--json'], { cwd: dir })
    try {
      expect(server.ready).toMatchObject({ event: 'ready', name: 'my-server' })
      const call = await agora(['call', server.ready.http, 'greet', '--args', '{"name":"Ada"}'])
      expect(call).toMatchObject({ code: 0, stdout: 'Hello, Ada!\n' })
    } finally {
      await server.stop()
    }
  }, 60_000)
})

describe('agora dev', () => {
  it('serves the examples on free ports and answers a call', async () => {
    const dev = await start<{ event: string; servers: { name: string; http: string }[] }>('node', [
      AGORA,
      'dev',
      '--json',
      '--port',
      '0',
    ])
    try {
      const expected = ['weather', 'everything'].filter((e) => existsSync(repo(`examples/${e}/src/server.ts`))).length
      expect(dev.ready.event).toBe('ready')
      expect(dev.ready.servers).toHaveLength(expected)
      const weather = dev.ready.servers.find((s) => s.name === 'weather')
      expect(weather?.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
      const call = await agora(['call', weather!.http, 'current-weather', '--args', '{"city":"Oslo"}', '--json'])
      expect(call.code).toBe(0)
      expect(JSON.parse(call.stdout).structuredContent).toMatchObject({ city: 'Oslo', temperatureC: expect.any(Number) })
    } finally {
      expect(await dev.stop()).toBe(0)
    }
  })
})
