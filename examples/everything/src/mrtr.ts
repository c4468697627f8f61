/**
 * Multi round-trip fixtures (SEP-2322, `input_required` results) and the SEP-2575 diagnostic tools of
 * the 2026-07-28 suite. Agora signs every `requestState` these handlers return and verifies it on
 * the way back in, so `ctx.requestState()` is always the handler's own value.
 */
import type { AgoraServer, HandlerContext } from '@agora/core'
import { acceptedContent, inputRequired, inputResponse } from '@agora/core'
import { z } from 'zod'

const nameForm = z.object({ name: z.string() })
const askName = (message = 'What is your name?') => inputRequired.elicit({ message, requestedSchema: nameForm })
const askConfirm = (message: string) =>
  inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  })
const askCapital = () =>
  inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
    maxTokens: 100,
  })

function sampled(ctx: HandlerContext, key: string): string | undefined {
  const answer = inputResponse(ctx.inputResponses, key)
  if (answer.kind !== 'sampling') return undefined
  const content = answer.result.content
  const block = Array.isArray(content) ? content[0] : content
  return block && 'text' in block ? String(block.text) : ''
}

function roots(ctx: HandlerContext, key: string): string[] | undefined {
  const answer = inputResponse(ctx.inputResponses, key)
  return answer.kind === 'roots' ? answer.roots.map((r) => r.uri) : undefined
}

const confirmed = (ctx: HandlerContext, key: string) => acceptedContent(ctx.inputResponses, key)?.ok === true

export function addInputRequiredTools(server: AgoraServer): AgoraServer {
  return server
    .tool('test_input_required_result_elicitation', { description: 'Asks for a name, then greets' }, (_a, ctx) => {
      const answer = acceptedContent(ctx.inputResponses, 'user_name', nameForm)
      if (answer) return `Hello, ${answer.name}!`
      return inputRequired({ inputRequests: { user_name: askName() } })
    })
    .tool('test_input_required_result_sampling', { description: 'Asks the client LLM a question' }, (_a, ctx) => {
      const text = sampled(ctx, 'capital_question')
      if (text !== undefined) return `The model answered: ${text}`
      return inputRequired({ inputRequests: { capital_question: askCapital() } })
    })
    .tool('test_input_required_result_list_roots', { description: 'Lists the client roots' }, (_a, ctx) => {
      const uris = roots(ctx, 'client_roots')
      if (uris) return `Client roots: ${uris.join(', ') || '(none)'}`
      return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } })
    })
    .tool('test_input_required_result_request_state', { description: 'Round-trips requestState' }, (_a, ctx) => {
      if (ctx.requestState() === 'awaiting-confirmation' && confirmed(ctx, 'confirm')) return 'state-ok: confirmed'
      return inputRequired({ inputRequests: { confirm: askConfirm('Please confirm') }, requestState: 'awaiting-confirmation' })
    })
    .tool('test_input_required_result_multiple_inputs', { description: 'Asks for three inputs at once' }, (_a, ctx) => {
      const name = acceptedContent(ctx.inputResponses, 'user_name', nameForm)?.name
      const greeting = sampled(ctx, 'greeting')
      const uris = roots(ctx, 'client_roots')
      if (ctx.requestState() === 'multiple' && name !== undefined && greeting !== undefined && uris) {
        return `name=${name}; greeting=${greeting}; roots=${uris.join(', ')}`
      }
      return inputRequired({
        inputRequests: {
          user_name: askName(),
          greeting: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
            maxTokens: 50,
          }),
          client_roots: inputRequired.listRoots(),
        },
        requestState: 'multiple',
      })
    })
    .tool('test_input_required_result_multi_round', { description: 'Asks twice, carrying state' }, (_a, ctx) => {
      const state = ctx.requestState()
      const name = acceptedContent(ctx.inputResponses, 'step1', nameForm)?.name
      if (state === 'round-1' && name !== undefined) {
        return inputRequired({
          inputRequests: {
            step2: inputRequired.elicit({
              message: 'Step 2: What is your favorite color?',
              requestedSchema: z.object({ color: z.string() }),
            }),
          },
          requestState: JSON.stringify({ round: 2, name }),
        })
      }
      const color = acceptedContent(ctx.inputResponses, 'step2', z.object({ color: z.string() }))?.color
      if (state?.startsWith('{') && color !== undefined) {
        const { name: who } = JSON.parse(state) as { name: string }
        return `${who} likes ${color}`
      }
      return inputRequired({ inputRequests: { step1: askName('Step 1: What is your name?') }, requestState: 'round-1' })
    })
    .tool('test_input_required_result_tampered_state', { description: 'Refuses tampered requestState' }, (_a, ctx) => {
      if (ctx.requestState() === 'integrity-checked' && confirmed(ctx, 'confirm')) return 'state verified'
      return inputRequired({ inputRequests: { confirm: askConfirm('Please confirm') }, requestState: 'integrity-checked' })
    })
    .tool(
      'test_input_required_result_capabilities',
      { description: 'Asks only for what the client declared it can answer' },
      (_a, ctx) => {
        const caps = ctx.clientCapabilities
        const asks = {
          ...(caps.elicitation ? { user_name: askName() } : {}),
          ...(caps.sampling ? { capital_question: askCapital() } : {}),
          ...(caps.roots ? { client_roots: inputRequired.listRoots() } : {}),
        }
        const answered = Object.keys(asks).every((k) => inputResponse(ctx.inputResponses, k).kind !== 'missing')
        if (Object.keys(asks).length === 0 || answered) return `answered: ${Object.keys(asks).join(', ') || 'nothing to ask'}`
        return inputRequired({ inputRequests: asks })
      },
    )
}

export function addDiagnosticTools(server: AgoraServer): AgoraServer {
  return server
    .tool(
      'test_missing_capability',
      { description: 'Needs the sampling capability: clients that did not declare it get -32021', requires: { sampling: {} } },
      () => 'Sampling capability is declared',
    )
    .tool(
      'test_streaming_elicitation',
      { description: 'Elicits through an input_required result: the response stream never carries a request' },
      async (_a, ctx) => {
        await ctx.progress(50, 100, 'asking')
        if (confirmed(ctx, 'confirm')) return 'Streaming complete'
        return inputRequired({ inputRequests: { confirm: askConfirm('Continue?') } })
      },
    )
}
