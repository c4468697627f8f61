import type { Event } from 'nostr-tools/pure'
import type { RelayAnswer } from '../pool.ts'
import { isNewer } from '../relay/event-kinds.ts'
import { checkEvent } from '../signing.ts'

/** An event that survived verification, newest of its address, with every relay that had it. */
export interface CollectedEvent {
  readonly event: Event
  /** Relays that returned any version of this address. */
  readonly relays: ReadonlySet<string>
}

/** The outcome of merging relay answers. */
export interface Collected {
  /** Newest valid event per address (`kind:pubkey:d`). */
  readonly byAddress: ReadonlyMap<string, CollectedEvent>
  /** Relays that answered. */
  readonly answered: readonly string[]
  /** Relays that failed, with the reason. */
  readonly failed: ReadonlyArray<{ readonly relay: string; readonly error: string }>
  /** Events dropped for a bad id or signature (including those the relay client already dropped). */
  readonly forged: number
  /** Ids of the forged events seen here (not those the relay client dropped). */
  readonly forgedIds: readonly string[]
}

/**
 * Merges the answers of several relays: verifies every event's id and signature (forged ones are
 * counted and dropped), keeps events of the expected kinds, and keeps the newest version per
 * address with NIP-01's tie-break (on equal `created_at`, the lowest id).
 *
 * @example
 * ```ts
 * const { byAddress, forged } = collectAnswers(await relays.query({ kinds: [31316] }), new Set([31316]))
 * ```
 */
export function collectAnswers(answers: readonly RelayAnswer[], kinds: ReadonlySet<number>): Collected {
  const byAddress = new Map<string, { event: Event; relays: Set<string> }>()
  const answered: string[] = []
  const failed: Array<{ relay: string; error: string }> = []
  const forgedIds: string[] = []
  let forged = 0
  for (const answer of answers) {
    if ('error' in answer) {
      failed.push({ relay: answer.relay, error: answer.error })
      continue
    }
    answered.push(answer.relay)
    forged += answer.rejected ?? 0
    for (const event of answer.events) {
      if (!kinds.has(event.kind)) continue
      // checkEvent verifies a bare copy (nostr-tools' cached verdict, which spread copies, is not trusted).
      if (!isWellFormed(event) || !checkEvent(event)) {
        forged++
        forgedIds.push(String(event.id))
        continue
      }
      const address = addressOf(event)
      const slot = byAddress.get(address)
      if (!slot) byAddress.set(address, { event, relays: new Set([answer.relay]) })
      else {
        slot.relays.add(answer.relay)
        if (isNewer(event, slot.event)) slot.event = event
      }
    }
  }
  return { byAddress, answered, failed, forged, forgedIds }
}

/** `kind:pubkey:d`, the NIP-01 address of an addressable event. */
export function addressOf(event: Event): string {
  return `${event.kind}:${event.pubkey}:${tagValue(event, 'd') ?? ''}`
}

/** The first value of a tag, if present. */
export function tagValue(event: Event, name: string): string | undefined {
  return event.tags.find((t) => t[0] === name)?.[1]
}

/** Guards the verifier against shapes that would make it throw (it expects strings and arrays). */
function isWellFormed(event: Event): boolean {
  return (
    typeof event.id === 'string' &&
    typeof event.pubkey === 'string' &&
    typeof event.sig === 'string' &&
    typeof event.content === 'string' &&
    Number.isInteger(event.created_at) &&
    Array.isArray(event.tags) &&
    event.tags.every((t) => Array.isArray(t) && t.every((v) => typeof v === 'string'))
  )
}
