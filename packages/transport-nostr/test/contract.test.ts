import { silentLogger } from '@agora/core'
import { transportContract } from '@agora/testing'
import { afterAll, beforeAll, expect } from 'vitest'
import type { RelayHandle } from '../src/relay/index.ts'
import { NostrHarness } from './nostr-helpers.ts'

let relay: RelayHandle
const shared = new NostrHarness()
beforeAll(async () => {
  relay = await shared.relay()
})
afterAll(() => shared.closeAll())

const runs = [
  ['disabled', '2025', 'legacy'],
  ['required', '2025', 'legacy'],
  ['disabled', '2026-07-28', { pin: '2026-07-28' }],
  ['required', '2026-07-28', { pin: '2026-07-28' }],
] as const

for (const [encryption, era, mode] of runs) {
  transportContract(`nostr (DVMCP draft, encryption ${encryption}, ${era})`, {
    transportKind: 'nostr',
    // Under the embedded relay's 1 MiB message cap and the server's 256 KiB content default.
    largeMessageBytes: 200 * 1024,
    async connect(server) {
      const h = new NostrHarness()
      const nostr = await h.serve(server, { relays: [relay.url], encryption, logger: silentLogger })
      const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey, encryption }, mode)
      expect(client.getNegotiatedProtocolVersion()).toBe(mode === 'legacy' ? '2025-11-25' : '2026-07-28')
      return { client, close: () => h.closeAll() }
    },
  })
}
