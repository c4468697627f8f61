/**
 * The conformance suite's content and 2025-era tools. Sampling and elicitation are written once as
 * multi round-trip handlers (`inputRequired(...)`): 2026-07-28 clients answer the input requests and
 * retry; on a 2025 session the SDK turns them into real `sampling/createMessage` and
 * `elicitation/create` requests to the client.
 */
import type { AgoraServer } from '@agora/core'
import { inputRequired, inputResponse, ToolError } from '@agora/core'
import { z } from 'zod'
import { audio, image, sleep } from './media.ts'

/** The text of a sampling result (one block or several). */
function sampledText(content: unknown): string {
  const blocks = Array.isArray(content) ? content : [content]
  return blocks
    .map((b) => (typeof b === 'object' && b !== null && 'text' in b ? String(b.text) : ''))
    .join('')
    .trim()
}

const elicited = (action: string, content: unknown) => `action=${action}, content=${JSON.stringify(content ?? {})}`

export function addContentTools(server: AgoraServer): AgoraServer {
  return server
    .tool('test_simple_text', { description: 'Returns one text block' }, () => 'This is a simple text response for testing.')
    .tool('test_image_content', { description: 'Returns one image block (a 1x1 red PNG)' }, () => image)
    .tool('test_audio_content', { description: 'Returns one audio block (a short WAV)' }, () => audio)
    .tool('test_embedded_resource', { description: 'Returns an embedded text resource' }, () => ({
      type: 'resource',
      resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
    }))
    .tool('test_multiple_content_types', { description: 'Returns text, image and an embedded resource' }, () => [
      { type: 'text', text: 'Multiple content types test:' },
      image,
      {
        type: 'resource',
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ test: 'data', value: 123 }),
        },
      },
    ])
    .tool('test_error_handling', { description: 'Always fails with isError' }, () => {
      throw new ToolError('This tool intentionally returns an error for testing')
    })
}

export function addProgressAndLoggingTools(server: AgoraServer): AgoraServer {
  return server
    .tool(
      'test_tool_with_progress',
      { description: 'Reports progress 0, 50 and 100 of 100, 50 ms apart' },
      async (_args, ctx) => {
        for (const step of [0, 50, 100]) {
          if (step > 0) await sleep(50, ctx.signal)
          await ctx.progress(step, 100, `Completed step ${step} of 100`)
        }
        return 'Progress test completed'
      },
    )
    .tool('test_tool_with_logging', { description: 'Logs three info messages, 50 ms apart' }, async (_args, ctx) => {
      ctx.log.info('Tool execution started')
      await sleep(50, ctx.signal)
      ctx.log.info('Tool processing data')
      await sleep(50, ctx.signal)
      ctx.log.info('Tool execution completed')
      return 'Tool with logging executed successfully'
    })
    .tool(
      'test_logging_tool',
      { description: 'Logs one message; clients hear it only when they asked for a log level' },
      (_args, ctx) => {
        ctx.log.info('test_logging_tool executed')
        return 'Logged.'
      },
    )
}

const SEP1034_SCHEMA = {
  type: 'object' as const,
  properties: {
    name: { type: 'string' as const, description: 'User name', default: 'John Doe' },
    age: { type: 'integer' as const, description: 'User age', default: 30 },
    score: { type: 'number' as const, description: 'User score', default: 95.5 },
    status: {
      type: 'string' as const,
      description: 'User status',
      enum: ['active', 'inactive', 'pending'],
      default: 'active',
    },
    verified: { type: 'boolean' as const, description: 'Verification status', default: true },
  },
  required: [],
}

const SEP1330_SCHEMA = {
  type: 'object' as const,
  properties: {
    untitledSingle: { type: 'string' as const, description: 'Pick one', enum: ['option1', 'option2', 'option3'] },
    titledSingle: {
      type: 'string' as const,
      description: 'Pick one (titled)',
      oneOf: [
        { const: 'value1', title: 'First Option' },
        { const: 'value2', title: 'Second Option' },
        { const: 'value3', title: 'Third Option' },
      ],
    },
    legacyEnum: {
      type: 'string' as const,
      description: 'Pick one (legacy titles)',
      enum: ['opt1', 'opt2', 'opt3'],
      enumNames: ['Option One', 'Option Two', 'Option Three'],
    },
    untitledMulti: {
      type: 'array' as const,
      description: 'Pick several',
      items: { type: 'string' as const, enum: ['option1', 'option2', 'option3'] },
    },
    titledMulti: {
      type: 'array' as const,
      description: 'Pick several (titled)',
      items: {
        anyOf: [
          { const: 'value1', title: 'First Choice' },
          { const: 'value2', title: 'Second Choice' },
          { const: 'value3', title: 'Third Choice' },
        ],
      },
    },
  },
  required: [],
}

/** A tool that asks the user once (form elicitation) and reports what came back. */
function elicitOnce(
  server: AgoraServer,
  name: string,
  description: string,
  form: (args: Record<string, unknown>) => Parameters<typeof inputRequired.elicit>[0],
  report: (answer: string) => string,
  input?: z.ZodObject,
): AgoraServer {
  return server.tool(name, { description, input, requires: { elicitation: {} } }, (args, ctx) => {
    const answer = inputResponse(ctx.inputResponses, 'answer')
    if (answer.kind === 'elicit') return report(elicited(answer.action, answer.content))
    return inputRequired({ inputRequests: { answer: inputRequired.elicit(form(args as Record<string, unknown>)) } })
  })
}

export function addClientRequestTools(server: AgoraServer): AgoraServer {
  server.tool(
    'test_sampling',
    {
      description: 'Asks the client to sample an LLM completion for a prompt',
      input: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
      requires: { sampling: {} },
    },
    ({ prompt }, ctx) => {
      const answer = inputResponse(ctx.inputResponses, 'completion')
      if (answer.kind === 'sampling') return `LLM response: ${sampledText(answer.result.content)}`
      return inputRequired({
        inputRequests: {
          completion: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
            maxTokens: 100,
          }),
        },
      })
    },
  )
  elicitOnce(
    server,
    'test_elicitation',
    'Asks the user for a username and email',
    (args) => ({
      message: String(args.message),
      requestedSchema: {
        type: 'object',
        properties: {
          username: { type: 'string', description: "User's response" },
          email: { type: 'string', description: "User's email address" },
        },
        required: ['username', 'email'],
      },
    }),
    (answer) => `User response: ${answer}`,
    z.object({ message: z.string().describe('The message to show the user') }),
  )
  elicitOnce(
    server,
    'test_elicitation_sep1034_defaults',
    'Elicits a form whose fields all have defaults (SEP-1034)',
    () => ({ message: 'Please review and update the form fields with defaults', requestedSchema: SEP1034_SCHEMA }),
    (answer) => `Elicitation completed: ${answer}`,
  )
  elicitOnce(
    server,
    'test_elicitation_sep1330_enums',
    'Elicits a form with every enum variant (SEP-1330)',
    () => ({ message: 'Please select options', requestedSchema: SEP1330_SCHEMA }),
    (answer) => `Elicitation completed: ${answer}`,
  )
  return server
}
