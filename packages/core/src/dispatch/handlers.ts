import type { CompleteResult, InputRequiredResult, Resource, Result, Server, ServerContext } from '@modelcontextprotocol/server'
import {
  isInputRequiredResult,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
} from '@modelcontextprotocol/server'
import { z } from 'zod'
import type { Caller } from '../caller.ts'
import type { AccessRule } from '../definition/access.ts'
import type { PromptReturn } from '../definition/prompt.ts'
import { toGetPromptResult } from '../definition/prompt.ts'
import type { ResourceReturn } from '../definition/resource.ts'
import { toReadResourceResult } from '../definition/resource.ts'
import type { AgoraServer } from '../definition/server.ts'
import type { ToolEntry } from '../definition/tool.ts'
import type { Logger } from '../logger.ts'
import type { Invocation, InvocationTarget, Next } from '../pipeline/invocation.ts'
import type { CompiledServer } from './compile.ts'
import type { RoundInfo } from './context.ts'
import { clientCapabilitiesOf, handlerContext, missingCapabilities } from './context.ts'
import { withDeadline } from './deadline.ts'
import { toProtocolError } from './errors.ts'
import { createInvocation } from './invocation.ts'
import { installListChanges } from './list-changes.ts'
import type { RequestStateSeal } from './request-state.ts'
import { DEFAULT_TIMEOUT_MS, runTool } from './run-tool.ts'
import { installSubscriptions } from './subscriptions.ts'

const paymentsListParams = z.looseObject({})

const allowed = (rule: AccessRule | undefined, caller: Caller) => !rule || rule(caller)

/** A tool's invocation target, built once per tool rather than per call. */
const toolTargets = new WeakMap<ToolEntry, InvocationTarget>()
function toolTarget(tool: ToolEntry): InvocationTarget {
  let target = toolTargets.get(tool)
  if (!target) {
    const { access, input, price } = tool.config
    target = { resource: `mcp://tool/${tool.name}`, access, input, price: price as InvocationTarget['price'] }
    toolTargets.set(tool, target)
  }
  return target
}

/**
 * Installs Agora's dispatch of tools, resources, prompts and completions on a low-level SDK
 * `Server`: every request becomes an {@link Invocation} that runs through the compiled gates.
 */
export function installHandlers(
  sdk: Server,
  def: AgoraServer,
  compiled: CompiledServer,
  kind: string,
  logger: Logger,
  seal: RequestStateSeal,
): void {
  const run = (inv: Invocation, terminal: Next): Promise<never> =>
    compiled.run(inv, terminal).catch((err) => {
      throw toProtocolError(err, logger)
    }) as Promise<never>
  /** The facts of this round; `requestState` only for the operations that can be multi round-trip. */
  const roundOf = (inv: Invocation, ctx: ServerContext, mrtr = false): RoundInfo => ({
    clientCapabilities: clientCapabilitiesOf(sdk, ctx),
    requestState: mrtr ? seal.open(inv, ctx) : undefined,
  })
  const ctxFor = (inv: Invocation, ctx: ServerContext, signal: AbortSignal, round = roundOf(inv, ctx)) =>
    handlerContext(inv, ctx, signal, logger, round)
  /** Passes an `inputRequired(...)` return through (state signed); anything else goes through `complete`. */
  const finish = async <T>(inv: Invocation, value: T, complete: (v: Exclude<T, InputRequiredResult>) => unknown) =>
    (isInputRequiredResult(value) ? await seal.seal(value, inv) : complete(value as Exclude<T, InputRequiredResult>)) as Result

  if (def.tools.size > 0) {
    sdk.setRequestHandler('tools/list', (_req, ctx) => {
      const inv = createInvocation('tools/list', undefined, undefined, undefined, ctx, kind)
      return run(inv, async () => ({
        tools: [...def.tools.values()].filter((t) => allowed(t.config.access, inv.caller)).map((t) => t.listing),
      }))
    })
    sdk.setRequestHandler('tools/call', (req, ctx) => {
      const { name } = req.params
      const tool = def.tools.get(name)
      if (!tool)
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`, { code: 'NOT_FOUND', tool: name })
      const missing = missingCapabilities(tool.config.requires, clientCapabilitiesOf(sdk, ctx))
      if (missing) {
        const names = Object.keys(missing).join(', ')
        throw new MissingRequiredClientCapabilityError(
          { requiredCapabilities: missing },
          `Tool ${name} needs client capabilities the client did not declare: ${names}`,
        )
      }
      const inv = createInvocation('tools/call', name, toolTarget(tool), req.params.arguments, ctx, kind)
      return run(inv, () => runTool(sdk, tool, inv, ctx, logger, seal))
    })
  }

  if (def.resources.size > 0 || def.resourceTemplates.length > 0) {
    sdk.setRequestHandler('resources/list', (_req, ctx) => {
      const inv = createInvocation('resources/list', undefined, undefined, undefined, ctx, kind)
      return run(inv, async () => {
        const resources: Resource[] = [...def.resources.values()]
          .filter((r) => allowed(r.config.access, inv.caller))
          .map((r) => r.listing)
        for (const t of def.resourceTemplates) {
          if (!t.config.list || !allowed(t.config.access, inv.caller)) continue
          const listed = await t.config.list(ctxFor(inv, ctx, inv.signal))
          resources.push(...listed)
        }
        return { resources }
      })
    })
    sdk.setRequestHandler('resources/templates/list', (_req, ctx) => {
      const inv = createInvocation('resources/templates/list', undefined, undefined, undefined, ctx, kind)
      return run(inv, async () => ({
        resourceTemplates: def.resourceTemplates.filter((t) => allowed(t.config.access, inv.caller)).map((t) => t.listing),
      }))
    })
    sdk.setRequestHandler('resources/read', (req, ctx) => {
      let url: URL
      try {
        url = new URL(req.params.uri)
      } catch {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid resource URI: ${req.params.uri}`, {
          uri: req.params.uri,
        })
      }
      const uri = url.toString()
      const label = `resource ${uri}`
      const fixed = def.resources.get(uri)
      if (fixed) {
        const target = { resource: `mcp://resource/${uri}`, access: fixed.config.access }
        const inv = createInvocation('resources/read', uri, target, undefined, ctx, kind)
        return run(inv, async () => {
          const round = roundOf(inv, ctx, true)
          const value: ResourceReturn = await withDeadline(
            (s) => fixed.read(url, ctxFor(inv, ctx, s, round)),
            inv.signal,
            DEFAULT_TIMEOUT_MS,
            label,
          )
          return finish(inv, value, (v) => toReadResourceResult(uri, v, fixed.config.mimeType))
        })
      }
      for (const t of def.resourceTemplates) {
        const vars = t.template.match(uri)
        if (!vars) continue
        const target = { resource: `mcp://resource/${uri}`, access: t.config.access }
        const inv = createInvocation('resources/read', uri, target, vars as Record<string, unknown>, ctx, kind)
        return run(inv, async () => {
          const round = roundOf(inv, ctx, true)
          const value: ResourceReturn = await withDeadline(
            (s) => t.read(url, vars, ctxFor(inv, ctx, s, round)),
            inv.signal,
            DEFAULT_TIMEOUT_MS,
            label,
          )
          return finish(inv, value, (v) => toReadResourceResult(uri, v, t.config.mimeType))
        })
      }
      throw new ResourceNotFoundError(req.params.uri)
    })
    installSubscriptions(sdk, def, run, kind)
  }

  if (def.prompts.size > 0) {
    sdk.setRequestHandler('prompts/list', (_req, ctx) => {
      const inv = createInvocation('prompts/list', undefined, undefined, undefined, ctx, kind)
      return run(inv, async () => ({
        prompts: [...def.prompts.values()].filter((p) => allowed(p.config.access, inv.caller)).map((p) => p.listing),
      }))
    })
    sdk.setRequestHandler('prompts/get', (req, ctx) => {
      const { name } = req.params
      const prompt = def.prompts.get(name)
      if (!prompt)
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`, { code: 'NOT_FOUND', prompt: name })
      const target = { resource: `mcp://prompt/${name}`, access: prompt.config.access, input: prompt.config.args }
      const inv = createInvocation('prompts/get', name, target, req.params.arguments, ctx, kind)
      return run(inv, async () => {
        const handler = prompt.handler as (a: unknown, c: unknown) => PromptReturn | Promise<PromptReturn>
        const round = roundOf(inv, ctx, true)
        const value = await withDeadline(
          (s) => handler(inv.args, ctxFor(inv, ctx, s, round)),
          inv.signal,
          DEFAULT_TIMEOUT_MS,
          `prompt ${name}`,
        )
        return finish(inv, value, (v) => toGetPromptResult(v, prompt.config.description))
      })
    })
  }

  if (compiled.capabilities.completions) {
    sdk.setRequestHandler('completion/complete', (req, ctx) => {
      const inv = createInvocation('completion/complete', undefined, undefined, undefined, ctx, kind)
      const { ref, argument } = req.params
      return run(inv, async (): Promise<CompleteResult> => {
        let complete: ((value: string) => string[] | Promise<string[]>) | undefined
        if (ref.type === 'ref/prompt') {
          const prompt = def.prompts.get(ref.name)
          if (!prompt) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`)
          complete = prompt.config.complete?.[argument.name]
        } else if (ref.type === 'ref/resource') {
          const t = def.resourceTemplates.find((x) => x.listing.uriTemplate === ref.uri)
          if (!t && !def.resources.has(ref.uri))
            throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown resource template: ${ref.uri}`)
          complete = t?.config.complete?.[argument.name]
        }
        const values = complete ? await complete(argument.value) : []
        return { completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 } }
      })
    })
  }

  const payments = def.gates.payments
  if (payments?.paymentsList) {
    // SEP-2009 §1.1 discovery. A custom method: validated params, answered through the gates too.
    sdk.setRequestHandler('payments/list', { params: paymentsListParams }, (_params, ctx) => {
      const inv = createInvocation('payments/list', undefined, undefined, undefined, ctx, kind)
      return run(inv, async () => (await payments.paymentsList?.()) as Result)
    })
  }
  installListChanges(sdk, def, compiled.capabilities)
}
