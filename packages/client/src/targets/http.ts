import { AgoraError } from '@agora/core/errors'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import type { HttpTarget, TargetScheme } from './types.ts'

/**
 * Streamable HTTP targets: `http://host:port/mcp` or `https://…`. Headers given to `connect()`
 * (for example `Authorization: Bearer <key>` or `X-API-Key`) go on every request.
 */
export const httpScheme: TargetScheme<'http'> = {
  kind: 'http',
  prefixes: ['http://', 'https://'],
  usage: 'http(s)://host[:port]/path',
  parse(text): HttpTarget {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      throw new AgoraError('TARGET', `invalid URL ${JSON.stringify(text)}: expected http(s)://host[:port]/path`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AgoraError('TARGET', `unsupported URL scheme ${url.protocol} in ${JSON.stringify(text)}`)
    }
    return { kind: 'http', url: url.href }
  },
  format: (target) => target.url,
  open(target, options) {
    const headers: Record<string, string> = { ...options.headers }
    const hasAuth = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')
    if (options.apiKey && !hasAuth) headers.Authorization = `Bearer ${options.apiKey}`
    const transport = new StreamableHTTPClientTransport(new URL(target.url), {
      requestInit: Object.keys(headers).length > 0 ? { headers } : undefined,
    })
    return { transport }
  },
}
