/** The server definition the transport benches call: one `echo` tool, the same in every run. */
import { createServer } from '@agora/core'
import { z } from 'zod'

export const echoServer = () =>
  createServer({ name: 'bench', version: '1.0.0' }).tool(
    'echo',
    { description: 'Echoes text', input: z.object({ text: z.string() }) },
    ({ text }) => text,
  )
