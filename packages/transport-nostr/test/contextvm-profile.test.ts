import { describe, expect, it } from 'vitest'
import { CONTEXTVM, capabilityTags, isContextVm } from '../src/contextvm/profile.ts'
import { DVMCP_DRAFT, giftWrapKinds, giftWrapSpreadSeconds, PROFILES, resolveProfile } from '../src/profile.ts'
import { notificationTags, requestTags, responseTags } from '../src/wire.ts'

const server = 'a'.repeat(64)
const client = 'b'.repeat(64)
const request = 'c'.repeat(64)

describe('the CONTEXTVM profile', () => {
  it('is registered under "contextvm" and is told apart from the DVMCP draft', () => {
    expect(PROFILES.contextvm).toBe(CONTEXTVM)
    expect(resolveProfile('contextvm')).toBe(CONTEXTVM)
    expect(isContextVm(CONTEXTVM)).toBe(true)
    expect(isContextVm(DVMCP_DRAFT)).toBe(false)
    // A look-alike without the ContextVM wire facts is not taken for it.
    expect(isContextVm({ ...DVMCP_DRAFT, id: 'contextvm' })).toBe(false)
  })

  it('uses one kind for every message, 1131x announcements and both CEP-4 wrap kinds dated now', () => {
    const { request: req, response, notification, announcements } = CONTEXTVM.kinds
    expect([req, response, notification]).toEqual([25910, 25910, 25910])
    expect(announcements).toEqual({ server: 11316, tools: 11317, resources: 11318, resourceTemplates: 11319, prompts: 11320 })
    expect(giftWrapKinds(CONTEXTVM)).toEqual([1059, 21059])
    expect(giftWrapSpreadSeconds(CONTEXTVM)).toBe(0)
    expect(CONTEXTVM.encryption).toBe('cep4')
    expect(Object.isFrozen(CONTEXTVM) && Object.isFrozen(CONTEXTVM.kinds.announcements)).toBe(true)
  })

  it('addresses with p and correlates with e only (no s, d or method tags)', () => {
    expect(requestTags(CONTEXTVM, { method: 'tools/list', server, serverId: 'calc' })).toEqual([['p', server]])
    expect(responseTags(CONTEXTVM, { requestEventId: request, client, serverId: 'calc', initialize: true })).toEqual([
      ['e', request],
      ['p', client],
    ])
    expect(
      notificationTags(CONTEXTVM, {
        method: 'notifications/progress',
        recipient: client,
        serverId: 'calc',
        requestEventId: request,
      }),
    ).toEqual([
      ['p', client],
      ['e', request],
    ])
  })

  it('advertises encryption with the SDK flag tags, only when encryption is on and only for ContextVM', () => {
    expect(capabilityTags(CONTEXTVM, 'optional')).toEqual([['support_encryption'], ['support_encryption_ephemeral']])
    expect(capabilityTags(CONTEXTVM, 'required')).toHaveLength(2)
    expect(capabilityTags(CONTEXTVM, 'disabled')).toEqual([])
    expect(capabilityTags(DVMCP_DRAFT, 'optional')).toEqual([])
  })
})
