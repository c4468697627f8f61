import type { Caller } from '@agora/core'
import { TRANSPORT_EXTRA_KEY } from '@agora/core'
import type { AuthInfo } from '@modelcontextprotocol/server'

/**
 * The caller a libp2p peer is: `peer:<PeerId>`, authenticated, because the Noise handshake proved
 * the peer holds the PeerId's private key. Access rules, rate limits and payments key on `id`.
 *
 * @example
 * ```ts
 * peerCaller('12D3KooW…') // { id: 'peer:12D3KooW…', kind: 'peer', authenticated: true, scopes: [] }
 * ```
 */
export function peerCaller(peerId: string): Caller {
  return Object.freeze({ id: `peer:${peerId}`, kind: 'peer', authenticated: true, scopes: Object.freeze([]) })
}

/**
 * What a libp2p server transport hands the SDK with each message (`MessageExtraInfo.authInfo`):
 * an empty token (it is not a bearer credential) and, under {@link TRANSPORT_EXTRA_KEY}, the
 * transport kind, the remote PeerId and the verified {@link peerCaller} identity.
 *
 * @example
 * ```ts
 * transport.onmessage?.(message, { authInfo: peerAuthInfo(connection.remotePeer.toString()) })
 * ```
 */
export function peerAuthInfo(peerId: string): AuthInfo {
  const transport = Object.freeze({ kind: 'libp2p', remote: peerId, identity: peerCaller(peerId) })
  return Object.freeze({
    token: '',
    clientId: '',
    scopes: Object.freeze([]) as unknown as string[],
    extra: Object.freeze({ [TRANSPORT_EXTRA_KEY]: transport }),
  })
}
