import type { Event, EventTemplate, VerifiedEvent } from 'nostr-tools/pure'
import { finalizeEvent as finalizeJs, verifyEvent as verifyJs } from 'nostr-tools/pure'

interface Signer {
  finalizeEvent(template: EventTemplate, secretKey: Uint8Array): VerifiedEvent
  verifyEvent(event: Event): boolean
}

let active: Signer = { finalizeEvent: finalizeJs, verifyEvent: verifyJs }
let loading: Promise<void> | undefined

/**
 * Switches event signing and verification to nostr-tools' WebAssembly backend (`nostr-wasm`,
 * which nostr-tools itself depends on): about 7× faster than the pure-JS schnorr code, and every
 * call signs or verifies several events. Resolves once loaded; if `nostr-wasm` cannot be loaded,
 * the pure-JS code stays in use (same results, slower). `serveNostr` and `connectNostr` call it.
 *
 * @example
 * ```ts
 * await useFastSigning()
 * const event = signEvent({ kind: 5910, created_at, tags, content }, secretKey)
 * ```
 */
export function useFastSigning(): Promise<void> {
  loading ??= (async () => {
    try {
      const [{ initNostrWasm }, wasm] = await Promise.all([import('nostr-wasm'), import('nostr-tools/wasm')])
      wasm.setNostrWasm(await initNostrWasm())
      active = { finalizeEvent: wasm.finalizeEvent, verifyEvent: wasm.verifyEvent }
    } catch {
      // Keep the pure-JS implementation.
    }
  })()
  return loading
}

/**
 * Signs a template (sets `pubkey`, `id`, `sig`) with the fastest backend loaded. The template is
 * not modified.
 *
 * @example
 * ```ts
 * const event = signEvent({ kind: 6910, created_at: nowSeconds(), tags, content }, secretKey)
 * ```
 */
export function signEvent(template: EventTemplate, secretKey: Uint8Array): VerifiedEvent {
  return active.finalizeEvent(
    { kind: template.kind, created_at: template.created_at, tags: template.tags, content: template.content },
    secretKey,
  )
}

/**
 * True when the event's id matches its content and its signature is valid, with the fastest
 * backend loaded. Results are cached on the event object.
 *
 * @example
 * ```ts
 * if (!checkEvent(event)) return // forged
 * ```
 */
export function checkEvent(event: Event): boolean {
  return active.verifyEvent(event)
}
