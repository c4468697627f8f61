import { fileURLToPath } from 'node:url'
import pkg from '../package.json' with { type: 'json' }

/** This CLI's version (from its package.json). */
export const VERSION: string = pkg.version

/** Absolute path of a file in this repository, resolved from the CLI's own location. */
export const repoPath = (relative: string): string => fileURLToPath(new URL(`../../../${relative}`, import.meta.url))

/** Where this CLI's workspace packages live, for `file:` links in scaffolded projects. */
export const PACKAGES = {
  core: repoPath('packages/core'),
  cli: repoPath('packages/cli'),
  client: repoPath('packages/client'),
} as const
