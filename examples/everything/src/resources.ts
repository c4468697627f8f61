/** The conformance suite's resources: static text and binary, a watched resource, a template. */
import type { AgoraServer } from '@agora/core'
import { RED_PIXEL_PNG } from './media.ts'

export const WATCHED_URI = 'test://watched-resource'
const WATCH_INTERVAL_MS = 3000

export function addResources(server: AgoraServer): AgoraServer {
  let revision = 0
  const watcher = setInterval(() => {
    revision++
    server.resourceUpdated(WATCHED_URI)
  }, WATCH_INTERVAL_MS)
  watcher.unref()

  return server
    .resource(
      'test://static-text',
      { name: 'static-text', description: 'A static text resource', mimeType: 'text/plain' },
      () => 'This is the content of the static text resource.',
    )
    .resource(
      'test://static-binary',
      { name: 'static-binary', description: 'A static binary resource (a 1x1 PNG)', mimeType: 'image/png' },
      () => Buffer.from(RED_PIXEL_PNG, 'base64'),
    )
    .resource(
      WATCHED_URI,
      { name: 'watched-resource', description: 'Changes every 3 s; subscribe to hear about it', mimeType: 'text/plain' },
      () => `Watched resource content, revision ${revision}`,
    )
    .resourceTemplate(
      'test://template/{id}/data',
      {
        name: 'template-data',
        description: 'Data for one id',
        mimeType: 'application/json',
        complete: { id: (value) => ['1', '2', '3', '123'].filter((id) => id.startsWith(value)) },
      },
      (_uri, { id }) => JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
    )
}
