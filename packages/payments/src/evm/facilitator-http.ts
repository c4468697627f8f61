import { PaymentPayloadV2Schema, PaymentRequirementsV2Schema } from '@x402/core/schemas'
import type { FacilitatorClient } from '@x402/core/server'
import { HTTPFacilitatorClient } from '@x402/core/server'
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Listening, ListenOptions } from './listen.ts'
import { listen } from './listen.ts'

/** Largest verify/settle request body. Payment payloads are well under 4 KiB. */
const MAX_BODY_BYTES = 64 * 1024

interface ZodIssueLike {
  path: ReadonlyArray<string | number>
  message: string
}

type Parsed = { ok: true; payload: PaymentPayload; requirements: PaymentRequirements } | { ok: false; error: string }

async function parseRequest(c: Context): Promise<Parsed> {
  let body: unknown
  try {
    body = await c.req.json()
  } catch (err) {
    return { ok: false, error: `request body is not valid JSON: ${(err as Error).message}` }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'request body must be a JSON object {x402Version, paymentPayload, paymentRequirements}' }
  }
  const { paymentPayload, paymentRequirements } = body as Record<string, unknown>
  const payload = PaymentPayloadV2Schema.safeParse(paymentPayload)
  if (!payload.success)
    return { ok: false, error: `paymentPayload is not an x402 v2 PaymentPayload: ${issues(payload.error.issues)}` }
  const requirements = PaymentRequirementsV2Schema.safeParse(paymentRequirements)
  if (!requirements.success) {
    return { ok: false, error: `paymentRequirements is not x402 v2 PaymentRequirements: ${issues(requirements.error.issues)}` }
  }
  return { ok: true, payload: paymentPayload as PaymentPayload, requirements: paymentRequirements as PaymentRequirements }
}

const issues = (list: readonly ZodIssueLike[]) =>
  list
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ')

/**
 * The x402 facilitator HTTP API over any `FacilitatorClient`: `POST /verify` and `POST /settle`
 * take `{x402Version, paymentPayload, paymentRequirements}` and answer a VerifyResponse /
 * SettleResponse (HTTP 200, also when the payment is invalid); `GET /supported` lists the kinds.
 * A malformed body gets HTTP 400 `{error}`; a facilitator that throws gets HTTP 500 `{error}`.
 *
 * @example
 * ```ts
 * const app = createFacilitatorApp(createLocalFacilitator({ chain, account }))
 * const res = await app.request('/supported')
 * ```
 */
export function createFacilitatorApp(facilitator: FacilitatorClient): Hono {
  const app = new Hono()
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: `request body is larger than ${MAX_BODY_BYTES} bytes` }, 413),
  })
  const failed = (c: Context, err: unknown) => c.json({ error: err instanceof Error ? err.message : String(err) }, 500)
  app.get('/supported', async (c) => {
    try {
      return c.json(await facilitator.getSupported())
    } catch (err) {
      return failed(c, err)
    }
  })
  for (const operation of ['verify', 'settle'] as const) {
    app.post(`/${operation}`, limit, async (c) => {
      const parsed = await parseRequest(c)
      if (!parsed.ok) return c.json({ error: parsed.error }, 400)
      try {
        return c.json(await facilitator[operation](parsed.payload, parsed.requirements))
      } catch (err) {
        return failed(c, err)
      }
    })
  }
  return app
}

/**
 * Serves {@link createFacilitatorApp} on loopback; its `url` is what `httpFacilitator` takes.
 *
 * @example
 * ```ts
 * const served = await serveFacilitator(facilitator, { port: 0 })
 * const remote = httpFacilitator(served.url)
 * ```
 */
export function serveFacilitator(facilitator: FacilitatorClient, options: ListenOptions = {}): Promise<Listening> {
  return listen(createFacilitatorApp(facilitator), options)
}

export interface HttpFacilitatorOptions {
  /** Per-request timeout (ms). Default 30 s. */
  timeoutMs?: number | undefined
  /** Auth headers per facilitator path, as x402's `HTTPFacilitatorClient` takes them. */
  createAuthHeaders?: (() => Promise<Record<string, Record<string, string>>>) | undefined
}

/**
 * A facilitator reached over HTTP (x402's `HTTPFacilitatorClient`): ours from `agora devchain`,
 * or any public one (`https://x402.org/facilitator`), by configuration.
 *
 * @example
 * ```ts
 * const facilitator = httpFacilitator('http://127.0.0.1:8545/facilitator')
 * console.log(await facilitator.getSupported())
 * ```
 */
export function httpFacilitator(url: string, options: HttpFacilitatorOptions = {}): FacilitatorClient {
  return new HTTPFacilitatorClient({
    url,
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.createAuthHeaders ? { createAuthHeaders: options.createAuthHeaders } : {}),
  })
}
