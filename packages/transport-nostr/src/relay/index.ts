/**
 * The embedded Nostr relay: `startRelay` for `agora relay`, `agora dev` and tests.
 *
 * @example
 * ```ts
 * import { startRelay } from '@agora/transport-nostr/relay'
 * const relay = await startRelay()
 * ```
 *
 * @packageDocumentation
 */
export type { Retention } from './event-kinds.ts'
export { retentionOf } from './event-kinds.ts'
export { MemoryEventRepository } from './memory-repository.ts'
export type { RelayHandle, RelayOptions } from './relay.ts'
export { startRelay } from './relay.ts'
export { SqliteEventRepository } from './sqlite-repository.ts'
