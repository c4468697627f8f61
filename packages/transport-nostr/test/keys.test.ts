import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { npubEncode, nsecEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { bytesToHex } from 'nostr-tools/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { loadOrCreateSecretKey, parsePublicKey, parseSecretKey, resolveKeys, toNpub } from '../src/index.ts'

describe('Nostr keys', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  it('parses secret keys as hex, nsec or bytes, and rejects anything else', () => {
    const sk = generateSecretKey()
    expect(parseSecretKey(bytesToHex(sk))).toEqual(sk)
    expect(parseSecretKey(bytesToHex(sk).toUpperCase())).toEqual(sk)
    expect(parseSecretKey(nsecEncode(sk))).toEqual(sk)
    expect(parseSecretKey(sk)).toBe(sk)
    expect(() => parseSecretKey('abc')).toThrow(expect.objectContaining({ code: 'CONFIG' }))
    expect(() => parseSecretKey(new Uint8Array(31))).toThrow(/32 bytes/)
    expect(() => parseSecretKey(`nsec1${'q'.repeat(58)}`)).toThrow(expect.objectContaining({ code: 'CONFIG' }))
  })

  it('parses public keys as hex or npub, returning lower-case hex', () => {
    const pk = getPublicKey(generateSecretKey())
    expect(parsePublicKey(pk.toUpperCase())).toBe(pk)
    expect(parsePublicKey(npubEncode(pk))).toBe(pk)
    expect(toNpub(pk)).toBe(npubEncode(pk))
    expect(() => parsePublicKey('npub1nope')).toThrow(expect.objectContaining({ code: 'TARGET' }))
    expect(() => parsePublicKey('1234')).toThrow(/64 hex characters or npub1/)
  })

  it('creates a key file with mode 0600 and reads the same key back', async () => {
    dir = await mkdtemp(join(tmpdir(), 'agora-nostr-key-'))
    const path = join(dir, 'sub', 'nostr.key')
    const first = await loadOrCreateSecretKey(path)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await readFile(path, 'utf8')).trim()).toBe(bytesToHex(first.secretKey))
    const again = await loadOrCreateSecretKey(path)
    expect(again.pubkey).toBe(first.pubkey)
    expect((await resolveKeys({ keyFile: path })).pubkey).toBe(first.pubkey)
    // An explicit key wins over the file; no key and no file gives a fresh key.
    const sk = generateSecretKey()
    expect((await resolveKeys({ secretKey: sk, keyFile: path })).pubkey).toBe(getPublicKey(sk))
    expect((await resolveKeys({})).pubkey).not.toBe(first.pubkey)
  })

  it('accepts an nsec in a key file and refuses a file holding something else', async () => {
    dir = await mkdtemp(join(tmpdir(), 'agora-nostr-key-'))
    const sk = generateSecretKey()
    await writeFile(join(dir, 'nsec.key'), `${nsecEncode(sk)}\n`)
    expect((await loadOrCreateSecretKey(join(dir, 'nsec.key'))).pubkey).toBe(getPublicKey(sk))
    await writeFile(join(dir, 'bad.key'), 'not a key')
    await expect(loadOrCreateSecretKey(join(dir, 'bad.key'))).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining('holds no secret key'),
    })
  })
})
