/** The conformance suite's prompts, including one that asks for input first (multi round-trip). */
import type { AgoraServer } from '@agora/core'
import { acceptedContent, inputRequired } from '@agora/core'
import { z } from 'zod'
import { image } from './media.ts'

const CITIES = ['paris', 'park', 'party', 'test', 'testing']

export function addPrompts(server: AgoraServer): AgoraServer {
  return server
    .prompt('test_simple_prompt', { description: 'A prompt without arguments' }, () => 'This is a simple prompt for testing.')
    .prompt(
      'test_prompt_with_arguments',
      {
        description: 'A prompt with two arguments',
        args: z.object({ arg1: z.string().describe('First test argument'), arg2: z.string().describe('Second test argument') }),
        complete: { arg1: (value) => CITIES.filter((c) => c.startsWith(value.toLowerCase())) },
      },
      ({ arg1, arg2 }) => `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`,
    )
    .prompt(
      'test_prompt_with_embedded_resource',
      {
        description: 'A prompt that embeds a resource',
        args: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
      },
      ({ resourceUri }) => [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    )
    .prompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => [
      { role: 'user', content: image },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ])
    .prompt(
      'test_input_required_result_prompt',
      { description: 'Asks which context to use before building the prompt' },
      (_args, ctx) => {
        const answer = acceptedContent(ctx.inputResponses, 'user_context', z.object({ context: z.string() }))
        if (answer) return `Use this context: ${answer.context}`
        return inputRequired({
          inputRequests: {
            user_context: inputRequired.elicit({
              message: 'What context should the prompt use?',
              requestedSchema: z.object({ context: z.string() }),
            }),
          },
        })
      },
    )
}
