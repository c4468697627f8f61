import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { UsageError } from './errors.ts'

/** `agora bridge --config <file>`: what the bridge puts in front of the stdio server. */
export const bridgeConfigSchema = z
  .object({
    name: z.string().min(1).optional().describe('Server name on Nostr (default: the upstream server’s name)'),
    version: z.string().min(1).optional(),
    about: z.string().optional().describe('Description in the announcement'),
    prices: z
      .record(z.string(), z.string())
      .optional()
      .describe('Price per tool, e.g. { "echo": "1 sats" }; sats prices need --nwc'),
    allow: z.array(z.string()).optional().describe('Only these Nostr pubkeys (hex or npub) may call'),
    block: z.array(z.string()).optional().describe('These Nostr pubkeys (hex or npub) may not call'),
  })
  .strict()

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>

/** Reads and checks a bridge config file; every problem is a usage error naming the file. */
export async function loadBridgeConfig(path: string | undefined): Promise<BridgeConfig> {
  if (path === undefined) return {}
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read --config ${path}: ${(err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--config ${path} is not JSON: ${(err as Error).message}`)
  }
  const parsed = bridgeConfigSchema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new UsageError(`--config ${path}: ${issues}`)
  }
  return parsed.data
}
