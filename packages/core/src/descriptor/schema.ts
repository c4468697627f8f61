import { z } from 'zod'

/** A transport endpoint where the server can be reached. */
export const endpointSchema = z.object({
  transport: z.enum(['streamable-http', 'stdio', 'libp2p', 'nostr']).describe('How to reach the server'),
  url: z.string().optional().describe('streamable-http: the MCP endpoint URL'),
  command: z.string().optional().describe('stdio: the command line that starts the server'),
  peerId: z.string().optional().describe('libp2p: the server PeerId'),
  addrs: z.array(z.string()).optional().describe('libp2p: multiaddrs'),
  pubkey: z.string().optional().describe('nostr: server public key (hex)'),
  relays: z.array(z.string()).optional().describe('nostr: relay URLs'),
})

export const priceSchema = z.object({
  amount: z
    .string()
    .regex(/^(0|[1-9]\d*)(\.\d+)?$/)
    .optional()
    .describe('Decimal amount in whole units of asset'),
  asset: z.string().optional(),
  network: z.string().optional().describe('CAIP-2 network id'),
  dynamic: z.boolean().optional().describe('True when the price depends on the arguments'),
})

export const descriptorToolSchema = z.object({
  name: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  price: priceSchema.optional(),
})

/**
 * The server descriptor: one JSON document describing a server for discovery. Every announcer
 * (registry, libp2p DHT, Nostr) publishes this shape.
 */
export const descriptorSchema = z.object({
  $schema: z.string().optional(),
  descriptorVersion: z.literal(1),
  name: z.string().min(1),
  version: z.string().min(1),
  title: z.string().optional(),
  description: z.string().optional(),
  websiteUrl: z.string().optional(),
  capabilities: z.object({
    tools: z.boolean(),
    resources: z.boolean(),
    prompts: z.boolean(),
    completions: z.boolean(),
  }),
  tools: z.array(descriptorToolSchema),
  resources: z.array(
    z.object({ uri: z.string(), name: z.string(), description: z.string().optional(), mimeType: z.string().optional() }),
  ),
  resourceTemplates: z.array(
    z.object({ uriTemplate: z.string(), name: z.string(), description: z.string().optional(), mimeType: z.string().optional() }),
  ),
  prompts: z.array(
    z.object({
      name: z.string(),
      description: z.string().optional(),
      arguments: z
        .array(z.object({ name: z.string(), description: z.string().optional(), required: z.boolean().optional() }))
        .optional(),
    }),
  ),
  endpoints: z.array(endpointSchema),
  identity: z
    .object({
      did: z.string().optional(),
      peerId: z.string().optional(),
      nostrPubkey: z.string().optional(),
    })
    .describe('Identities the server can prove'),
  payments: z.array(z.record(z.string(), z.unknown())).describe('Payment methods accepted (filled by the payments package)'),
  signature: z.record(z.string(), z.unknown()).optional().describe('Detached signature by one of the identities'),
})

export type ServerDescriptor = z.infer<typeof descriptorSchema>
export type DescriptorEndpoint = z.infer<typeof endpointSchema>

/** The descriptor's JSON Schema (committed as `schemas/server-descriptor.schema.json`). */
export function descriptorJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(descriptorSchema, { target: 'draft-2020-12' }),
    $id: 'https://agora.dev/schemas/server-descriptor.schema.json',
    title: 'Agora server descriptor',
  }
}
