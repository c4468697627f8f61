/**
 * The hooks the 2026-07-28 suite (`server-stateless`, SEP-2575) calls to change the lists while a
 * `subscriptions/listen` stream is open: each call adds its dynamic tool or prompt, or removes it
 * when present, and listening clients hear `notifications/*\/list_changed`.
 */
import type { AgoraServer } from '@agora/core'

const DYNAMIC_TOOL = 'test_dynamic_tool'
const DYNAMIC_PROMPT = 'test_dynamic_prompt'

export function addListChangeTriggers(server: AgoraServer): void {
  server
    .tool('test_trigger_tool_change', { description: `Adds ${DYNAMIC_TOOL}, or removes it when present` }, () => {
      if (server.removeTool(DYNAMIC_TOOL)) return `Removed ${DYNAMIC_TOOL}.`
      server.tool(DYNAMIC_TOOL, { description: 'Added at runtime by test_trigger_tool_change' }, () => 'dynamic')
      return `Added ${DYNAMIC_TOOL}.`
    })
    .tool('test_trigger_prompt_change', { description: `Adds the prompt ${DYNAMIC_PROMPT}, or removes it when present` }, () => {
      if (server.removePrompt(DYNAMIC_PROMPT)) return `Removed ${DYNAMIC_PROMPT}.`
      server.prompt(DYNAMIC_PROMPT, { description: 'Added at runtime by test_trigger_prompt_change' }, () => 'dynamic')
      return `Added ${DYNAMIC_PROMPT}.`
    })
}
