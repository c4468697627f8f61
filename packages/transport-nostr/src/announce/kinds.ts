import type { NostrProfile } from '../profile.ts'

/**
 * The event kinds a server and its lists are announced under, taken from a profile
 * (`profile.kinds.announcements`). The logic never hard-codes them, so a profile with other kinds
 * (e.g. ContextVM's 11316–11320) reuses it. Without `resourceTemplates`, resource templates go
 * out under the `resources` kind with their own `d` tag (as the DVMCP bridge does).
 */
export type AnnouncementKinds = NostrProfile['kinds']['announcements']

/** The `d` tag suffixes of the list events, after `<serverId>/` (the DVMCP bridge's choice). */
export const LIST_D_SUFFIX = Object.freeze({
  tools: 'tools/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
  prompts: 'prompts/list',
})
