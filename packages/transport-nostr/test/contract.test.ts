import { silentLogger } from '@agora/core'
import { transportContract } from '@agora/testing'
import { afterAll, beforeAll } from 'vitest'
import type { RelayHandle } from '../src/relay/index.ts'
import { NostrHarness } from './nostr-helpers.ts'

let relay: RelayHandle
const shared = new NostrHarness()
beforeAll(async () => {
  relay = await shared.relay()
})
afterAll(() => shared.closeAll())

for (const encryption of ['disabled', 'required'] as const) {
  transportContract(`nostr (DVMCP draft, encryption ${encryption})`, {
    transportKind: 'nostr',
    // Under the embedded relay's 1 MiB message cap and the server's 256 KiB content default.
    largeMessageBytes: 200 * 1024,
    async connect(server) {
      const h = new NostrHarness()
      const nostr = await h.serve(server, { relays: [relay.url], encryption, logger: silentLogger })
      const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey, encryption })
      return { client, close: () => h.closeAll() }
    },
  })
}
