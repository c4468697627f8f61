import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { AgoraError } from '@agora/core/errors'
import type { InitFlags } from '../commands/init.ts'
import { packageName, projectFiles } from '../scaffold.ts'

/** `agora init`: writes a new project into an empty or absent directory. */
export function init(dir: string, flags: InitFlags): void {
  const root = resolve(dir)
  if (existsSync(root)) {
    if (!statSync(root).isDirectory()) throw new AgoraError('CONFIG', `${dir} exists and is not a directory`)
    if (readdirSync(root).length > 0) throw new AgoraError('CONFIG', `${dir} is not empty; choose a new or empty directory`)
  }
  const name = packageName(flags.name ?? basename(root))
  const files = projectFiles(name)
  for (const [path, text] of Object.entries(files)) {
    const file = join(root, path)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text)
  }
  const cd = relative(process.cwd(), root) || '.'
  process.stderr.write(
    [
      `agora: created ${name} in ${cd}`,
      ...Object.keys(files).map((f) => `  ${f}`),
      '',
      'Next:',
      `  cd ${cd}`,
      '  npm install',
      '  npm start',
      '',
    ].join('\n'),
  )
}
