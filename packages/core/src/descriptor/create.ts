import type { AgoraServer } from '../definition/server.ts'
import { compile } from '../dispatch/compile.ts'
import type { DescriptorEndpoint, ServerDescriptor } from './schema.ts'

export interface DescriptorOptions {
  endpoints?: DescriptorEndpoint[] | undefined
  identity?: ServerDescriptor['identity'] | undefined
  payments?: ServerDescriptor['payments'] | undefined
}

export const DESCRIPTOR_SCHEMA_URL = 'https://agora.dev/schemas/server-descriptor.schema.json'

/**
 * Produces the server descriptor from a definition. Transports add their endpoints.
 *
 * @example
 * ```ts
 * const d = createDescriptor(server, { endpoints: [{ transport: 'streamable-http', url: 'http://127.0.0.1:3000/mcp' }] })
 * console.log(d.tools.map((t) => `${t.name} ${t.price?.amount ?? 'free'}`))
 * ```
 */
export function createDescriptor(def: AgoraServer, options: DescriptorOptions = {}): ServerDescriptor {
  const caps = compile(def).capabilities
  const { name, version, title, description, websiteUrl } = def.info
  return {
    $schema: DESCRIPTOR_SCHEMA_URL,
    descriptorVersion: 1,
    name,
    version,
    ...(title ? { title } : {}),
    ...(description ? { description } : {}),
    ...(websiteUrl ? { websiteUrl } : {}),
    capabilities: {
      tools: caps.tools !== undefined,
      resources: caps.resources !== undefined,
      prompts: caps.prompts !== undefined,
      completions: caps.completions !== undefined,
    },
    tools: [...def.tools.values()].map(({ listing }) => {
      const price = listing._meta?.['agora/price'] as Record<string, unknown> | undefined
      return {
        name: listing.name,
        ...(listing.title ? { title: listing.title } : {}),
        ...(listing.description ? { description: listing.description } : {}),
        inputSchema: listing.inputSchema,
        ...(listing.outputSchema ? { outputSchema: listing.outputSchema } : {}),
        ...(listing.annotations ? { annotations: listing.annotations as Record<string, unknown> } : {}),
        ...(price ? { price } : {}),
      }
    }),
    resources: [...def.resources.values()].map(({ listing }) => ({
      uri: listing.uri,
      name: listing.name,
      ...(listing.description ? { description: listing.description } : {}),
      ...(listing.mimeType ? { mimeType: listing.mimeType } : {}),
    })),
    resourceTemplates: def.resourceTemplates.map(({ listing }) => ({
      uriTemplate: listing.uriTemplate,
      name: listing.name,
      ...(listing.description ? { description: listing.description } : {}),
      ...(listing.mimeType ? { mimeType: listing.mimeType } : {}),
    })),
    prompts: [...def.prompts.values()].map(({ listing }) => ({
      name: listing.name,
      ...(listing.description ? { description: listing.description } : {}),
      ...(listing.arguments ? { arguments: listing.arguments } : {}),
    })),
    endpoints: options.endpoints ?? [],
    identity: options.identity ?? {},
    payments: options.payments ?? [],
  }
}
