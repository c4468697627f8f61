import type { Server, ServerCapabilities } from '@modelcontextprotocol/server'
import type { AgoraServer } from '../definition/server.ts'

/**
 * Tells the client of a connected SDK server when the definition's tools, resources or prompts
 * change (`notifications/tools/list_changed`, …), for the kinds the instance advertised at
 * connect time. It listens only while connected, so per-request instances (stateless HTTP) that
 * are never left connected cost nothing. 2026-07-28 clients on a connection get these on their
 * `subscriptions/listen` stream (the SDK's era entry routes them); over HTTP, `createHttpApp`
 * publishes them through the handler's notifier instead.
 */
export function installListChanges(sdk: Server, def: AgoraServer, capabilities: ServerCapabilities): void {
  const send = {
    tools: capabilities.tools ? () => sdk.sendToolListChanged() : undefined,
    resources: capabilities.resources ? () => sdk.sendResourceListChanged() : undefined,
    prompts: capabilities.prompts ? () => sdk.sendPromptListChanged() : undefined,
  }
  if (!send.tools && !send.resources && !send.prompts) return
  let stop: (() => void) | undefined
  const connect = sdk.connect.bind(sdk)
  // Wrapped on the instance: the SDK has no "connected" event, and `oninitialized` never fires for
  // 2026-07-28 connections (no initialize).
  sdk.connect = async (transport) => {
    await connect(transport)
    stop ??= def.onChange((change) => {
      if (change.kind !== 'list-changed') return
      if (!sdk.transport) {
        stop?.()
        stop = undefined
        return
      }
      send[change.list]?.().catch(() => {})
    })
  }
  const previous = sdk.onclose
  sdk.onclose = () => {
    stop?.()
    stop = undefined
    previous?.()
  }
}
