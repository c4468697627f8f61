import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGES } from './paths.ts'

/** The files of a new server project, by relative path. */
export type ProjectFiles = Record<string, string>

/** A valid npm package name derived from a directory name: `My Server` → `my-server`. */
export function packageName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
  return name || 'agora-server'
}

const coreZod = (): string => {
  const pkg = JSON.parse(readFileSync(join(PACKAGES.core, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  return pkg.dependencies?.zod ?? '^4'
}

/**
 * The files `agora init` writes: a package that depends on this checkout's `@agora/core` and
 * `@agora/cli` through `file:` links, a one-tool server, a tsconfig for editors and a README.
 */
export function projectFiles(name: string): ProjectFiles {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    description: `${name}: an MCP server built with Agora`,
    scripts: {
      start: 'agora serve src/server.ts --http 127.0.0.1:3000',
      stdio: 'agora serve src/server.ts --stdio',
    },
    dependencies: {
      '@agora/cli': `file:${PACKAGES.cli}`,
      '@agora/core': `file:${PACKAGES.core}`,
      zod: coreZod(),
    },
  }
  const tsconfig = {
    compilerOptions: {
      target: 'es2023',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      erasableSyntaxOnly: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
    },
    include: ['src'],
  }
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    '.gitignore': 'node_modules/\n',
    'src/server.ts': `import { createServer } from '@agora/core'
import { z } from 'zod'

export default createServer({ name: '${name}', version: '0.1.0', description: 'My first Agora server' }).tool(
  'greet',
  {
    description: 'Greets someone by name',
    input: z.object({ name: z.string().describe('Who to greet') }),
  },
  ({ name }) => \`Hello, \${name}!\`,
)
`,
    'README.md': `# ${name}

An MCP server built with Agora.

\`\`\`sh
npm install
npm start        # serves src/server.ts on http://127.0.0.1:3000/mcp
\`\`\`

In another terminal:

\`\`\`sh
npx agora tools http://127.0.0.1:3000/mcp
npx agora call http://127.0.0.1:3000/mcp greet --args '{"name":"Ada"}'
\`\`\`

For MCP clients that start servers themselves (Claude Desktop, Cursor, the Inspector), use
\`npx agora serve src/server.ts --stdio\` as the command.

Add tools in \`src/server.ts\`: each has a name, a description, a zod input schema, an optional
\`price\` such as \`'0.01 USDC'\`, and a handler that returns text or a JSON-able value.
`,
  }
}
