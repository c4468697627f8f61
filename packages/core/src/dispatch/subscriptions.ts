import type { Server, ServerContext } from '@modelcontextprotocol/server'
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } from '@modelcontextprotocol/server'
import type { AccessRule } from '../definition/access.ts'
import type { AgoraServer } from '../definition/server.ts'
import type { Invocation, Next, Operation } from '../pipeline/invocation.ts'
import { createInvocation } from './invocation.ts'

/** The access rule of the resource at `uri` (fixed or from a template); throws when there is none. */
function accessOf(def: AgoraServer, uri: string): AccessRule | undefined {
  const fixed = def.resources.get(uri)
  if (fixed) return fixed.config.access
  const template = def.resourceTemplates.find((t) => t.template.match(uri))
  if (template) return template.config.access
  throw new ResourceNotFoundError(uri)
}

function normalise(uri: string): string {
  try {
    return new URL(uri).toString()
  } catch {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid resource URI: ${uri}`, { uri })
  }
}

/**
 * `resources/subscribe` and `resources/unsubscribe` (2025 revisions; 2026-07-28 clients use
 * `subscriptions/listen` instead). Each SDK server instance — one per connection or session — keeps
 * the URIs its client subscribed to; `def.resourceUpdated(uri)` sends that client
 * `notifications/resources/updated`. Subscribing runs the gates, so access rules apply.
 */
export function installSubscriptions(
  sdk: Server,
  def: AgoraServer,
  run: (inv: Invocation, terminal: Next) => Promise<never>,
  kind: string,
): void {
  const subscribed = new Set<string>()
  let stop: (() => void) | undefined
  const quiet = () => {
    stop?.()
    stop = undefined
  }
  const listen = () => {
    stop ??= def.onChange((change) => {
      if (!sdk.transport) return quiet()
      if (change.kind === 'resource-updated' && subscribed.has(change.uri)) {
        sdk.sendResourceUpdated({ uri: change.uri }).catch(() => {})
      }
    })
  }
  const previous = sdk.onclose
  sdk.onclose = () => {
    subscribed.clear()
    quiet()
    previous?.()
  }

  const handle = (operation: Operation, rawUri: string, ctx: ServerContext) => {
    const uri = normalise(rawUri)
    const target = { resource: `mcp://resource/${uri}`, access: accessOf(def, uri) }
    const inv = createInvocation(operation, uri, target, undefined, ctx, kind)
    return run(inv, async () => {
      if (operation === 'resources/subscribe') {
        subscribed.add(uri)
        listen()
      } else {
        subscribed.delete(uri)
        if (subscribed.size === 0) quiet()
      }
      return {}
    })
  }
  sdk.setRequestHandler('resources/subscribe', (req, ctx) => handle('resources/subscribe', req.params.uri, ctx))
  sdk.setRequestHandler('resources/unsubscribe', (req, ctx) => handle('resources/unsubscribe', req.params.uri, ctx))
}
