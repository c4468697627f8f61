import type { ContentBlock } from '@modelcontextprotocol/client'

/** The parts of a tool result or prompt message that carry content. */
export interface WithContent {
  content?: readonly ContentBlock[] | undefined
  structuredContent?: unknown
}

const bytes = (base64: string) => Math.floor((base64.length * 3) / 4)

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text
    case 'image':
    case 'audio':
      return `[${block.type} ${block.mimeType}, ${bytes(block.data)} bytes]`
    case 'resource': {
      const r = block.resource
      return 'text' in r ? r.text : `[resource ${r.uri}${r.mimeType ? ` ${r.mimeType}` : ''}, ${bytes(r.blob)} bytes]`
    }
    case 'resource_link':
      return `[link ${block.uri}${block.description ? ` — ${block.description}` : ''}]`
    default:
      return JSON.stringify(block)
  }
}

/**
 * Renders a result's content for people: text blocks as they are, other blocks as one-line
 * placeholders, structured content as indented JSON when there is no content at all.
 *
 * @example
 * ```ts
 * const result = await client.callTool('current-weather', { city: 'Oslo' })
 * console.log(contentText(result))
 * ```
 */
export function contentText(result: WithContent): string {
  const blocks = result.content ?? []
  if (blocks.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent, null, 2)
  return blocks.map(blockText).join('\n')
}
