import { createSdkServer } from '@agora/core'
import { InMemoryTransport } from '@modelcontextprotocol/client'
import { afterAll, describe, expect, it } from 'vitest'
import type { Target } from '../src/index.ts'
import { connect, parseTarget, registerTargetScheme, splitCommandLine, targetSchemes } from '../src/index.ts'
import { fixtureServer } from './fixtures/server.ts'

declare module '../src/targets/types.ts' {
  interface TargetKinds {
    memory: { kind: 'memory'; name: string }
  }
}

describe('parseTarget', () => {
  it.each([
    ['http://127.0.0.1:3000/mcp', { kind: 'http', url: 'http://127.0.0.1:3000/mcp' }],
    ['https://example.com/mcp?x=1', { kind: 'http', url: 'https://example.com/mcp?x=1' }],
    ['HTTP://Example.COM', { kind: 'http', url: 'http://example.com/' }],
    ['  http://[::1]:8080/mcp  ', { kind: 'http', url: 'http://[::1]:8080/mcp' }],
    ['stdio:node server.ts', { kind: 'stdio', command: 'node', args: ['server.ts'] }],
    ['stdio: npx -y pkg --flag=1', { kind: 'stdio', command: 'npx', args: ['-y', 'pkg', '--flag=1'] }],
    [`stdio:node "my server.ts" 'a b' c\\ d`, { kind: 'stdio', command: 'node', args: ['my server.ts', 'a b', 'c d'] }],
    ['stdio:echo $HOME *.ts', { kind: 'stdio', command: 'echo', args: ['$HOME', '*.ts'] }],
  ] as const)('%s', (text, expected) => {
    expect(parseTarget(text)).toEqual(expected)
  })

  it.each([
    ['', /unrecognized target "".*http\(s\):\/\/.*stdio:<command line>/],
    ['localhost:3000', /unrecognized target/],
    ['ftp://x', /unrecognized target/],
    ['http://', /invalid URL/],
    ['stdio:', /stdio: needs a command/],
    ['stdio:   ', /stdio: needs a command/],
    ['stdio:node a.js | cat', /without a shell; remove "\|"/],
    ['stdio:node a.js > out', /without a shell/],
  ])('rejects %j', (text, message) => {
    expect(() => parseTarget(text)).toThrow(
      expect.objectContaining({ name: 'AgoraError', code: 'TARGET', message: expect.stringMatching(message) }),
    )
  })

  it('splits command lines like a shell, without running one', () => {
    expect(splitCommandLine('a "b c" d # comment')).toEqual(['a', 'b c', 'd'])
    expect(splitCommandLine(`a "it's" 'say "hi"'`)).toEqual(['a', "it's", 'say "hi"'])
  })
})

describe('registerTargetScheme', () => {
  const open = new Set<() => Promise<void>>()
  afterAll(async () => {
    for (const close of open) await close()
  })

  it('adds a scheme that parseTarget and connect use (here: an in-memory server)', async () => {
    registerTargetScheme({
      kind: 'memory',
      prefixes: ['memory:'],
      usage: 'memory:<name>',
      parse: (text) => ({ kind: 'memory', name: text.slice('memory:'.length) }),
      format: (t) => `memory:${t.name}`,
      async open() {
        const [client, server] = InMemoryTransport.createLinkedPair()
        const sdk = createSdkServer(fixtureServer(), { transport: 'memory' })
        await sdk.connect(server)
        open.add(() => sdk.close())
        return { transport: client }
      },
    })
    expect(targetSchemes().map((s) => s.kind)).toEqual(['http', 'stdio', 'p2p', 'nostr', 'memory'])
    const target: Target = parseTarget('memory:one')
    expect(target).toEqual({ kind: 'memory', name: 'one' })
    const client = await connect(target)
    expect(client.server?.name).toBe('fixture')
    expect((await client.callTool('echo', { text: 'hi' })).content).toEqual([{ type: 'text', text: 'hi' }])
    await client.close()
    expect(() => parseTarget('gopher:abc')).toThrow(/memory:<name>/)
  })
})
