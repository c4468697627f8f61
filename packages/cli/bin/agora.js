#!/usr/bin/env node
// The `agora` launcher. Agora is TypeScript run directly by Node 22+ (type stripping). Under an
// older Node, re-run this same command with the Node 22 binary that the `node` npm package brings,
// forwarding stdio, signals and the exit code.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

if (process.features.typescript) {
  const { main } = await import('../src/main.ts')
  process.exitCode = await main(process.argv)
} else {
  // The guard stops a loop when even that Node cannot run TypeScript (e.g. --no-experimental-strip-types).
  const node = process.env.AGORA_RELAUNCHED ? undefined : findNode22()
  if (!node) {
    process.stderr.write(
      `agora: needs Node.js 22.18 or newer (this is ${process.version}); run npm install to fetch it, or install it\n`,
    )
    process.exit(1)
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    // Node 22 first on PATH, so servers this command spawns (`stdio:node …`) run on it too.
    env: { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`, AGORA_RELAUNCHED: '1' },
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal)
    })
  }
  child.on('error', (err) => {
    process.stderr.write(`agora: cannot start ${node}: ${err.message}\n`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
    } else process.exit(code ?? 1)
  })
}

/** The Node binary of the `node` npm package (a dependency of @agora/cli), if installed. */
function findNode22() {
  try {
    const require = createRequire(import.meta.url)
    const dir = dirname(require.resolve('node/package.json'))
    return [join(dir, 'bin', 'node'), join(dir, 'bin', 'node.exe')].find((p) => existsSync(p))
  } catch {
    return undefined
  }
}
