import type { InputRequiredResult, ReadResourceResult, Resource, ResourceTemplateType } from '@modelcontextprotocol/server'
import { UriTemplate } from '@modelcontextprotocol/server'
import type { HandlerContext } from '../context.ts'
import type { AccessRule } from './access.ts'

/**
 * What a resource reader may return: text, bytes, a full `resources/read` result, or an
 * `inputRequired(...)` result asking the client for input first (multi round-trip).
 */
export type ResourceReturn = string | Uint8Array | ReadResourceResult | InputRequiredResult

export interface ResourceConfig {
  name?: string | undefined
  title?: string | undefined
  description?: string | undefined
  mimeType?: string | undefined
  access?: AccessRule | undefined
}

export interface ResourceTemplateConfig extends ResourceConfig {
  /** Lists concrete resources of this template in `resources/list`. */
  list?: ((ctx: HandlerContext) => Resource[] | Promise<Resource[]>) | undefined
  /** Completions per template variable, for `completion/complete`. */
  complete?: Record<string, (value: string) => string[] | Promise<string[]>> | undefined
}

export type ResourceReader = (uri: URL, ctx: HandlerContext) => ResourceReturn | Promise<ResourceReturn>
export type TemplateReader = (
  uri: URL,
  variables: Record<string, string | string[]>,
  ctx: HandlerContext,
) => ResourceReturn | Promise<ResourceReturn>

export interface ResourceEntry {
  readonly uri: string
  readonly config: ResourceConfig
  readonly read: ResourceReader
  readonly listing: Resource
}

export interface ResourceTemplateEntry {
  readonly template: UriTemplate
  readonly config: ResourceTemplateConfig
  readonly read: TemplateReader
  readonly listing: ResourceTemplateType
}

export function createResourceEntry(uri: string, config: ResourceConfig, read: ResourceReader): ResourceEntry {
  const normalised = new URL(uri).toString()
  const listing: Resource = {
    uri: normalised,
    name: config.name ?? normalised,
    ...(config.title ? { title: config.title } : {}),
    ...(config.description ? { description: config.description } : {}),
    ...(config.mimeType ? { mimeType: config.mimeType } : {}),
  }
  return { uri: normalised, config, read, listing }
}

export function createResourceTemplateEntry(
  uriTemplate: string,
  config: ResourceTemplateConfig,
  read: TemplateReader,
): ResourceTemplateEntry {
  const listing: ResourceTemplateType = {
    uriTemplate,
    name: config.name ?? uriTemplate,
    ...(config.title ? { title: config.title } : {}),
    ...(config.description ? { description: config.description } : {}),
    ...(config.mimeType ? { mimeType: config.mimeType } : {}),
  }
  return { template: new UriTemplate(uriTemplate), config, read, listing }
}

/** Normalises what a reader returned into a `ReadResourceResult`. */
export function toReadResourceResult(
  uri: string,
  value: Exclude<ResourceReturn, InputRequiredResult>,
  mimeType: string | undefined,
): ReadResourceResult {
  if (typeof value === 'string') {
    return { contents: [{ uri, text: value, ...(mimeType ? { mimeType } : { mimeType: 'text/plain' }) }] }
  }
  if (value instanceof Uint8Array) {
    const blob = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
    return { contents: [{ uri, blob, mimeType: mimeType ?? 'application/octet-stream' }] }
  }
  return value
}
