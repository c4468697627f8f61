import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { agoraHome, createWallet, defaultRecordPath, defaultWalletPath, loadWallet } from '../src/wallet/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'agora-keystore-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const mode = (p: string) => statSync(p).mode & 0o777

describe.skipIf(process.platform === 'win32')('wallet keystore', () => {
  it('creates a 0600 keystore in a 0700 directory, and loads it back', async () => {
    const path = join(dir, 'home', 'wallet.json')
    const wallet = await createWallet(path)
    expect(wallet.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(mode(path)).toBe(0o600)
    expect(mode(join(dir, 'home'))).toBe(0o700)
    const file = JSON.parse(readFileSync(path, 'utf8'))
    expect(file).toEqual({
      address: wallet.address,
      privateKey: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      createdAt: wallet.createdAt,
    })
    const loaded = await loadWallet(path)
    expect(loaded.address).toBe(wallet.address)
    expect(JSON.stringify(loaded)).not.toContain(file.privateKey.slice(2))
  })

  it('refuses to replace a wallet unless forced', async () => {
    const path = join(dir, 'replace.json')
    const first = await createWallet(path)
    await expect(createWallet(path)).rejects.toMatchObject({ code: 'CONFIG', message: expect.stringMatching(/already exists/) })
    expect((await loadWallet(path)).address).toBe(first.address)
    const second = await createWallet(path, { force: true })
    expect(second.address).not.toBe(first.address)
    expect(mode(path)).toBe(0o600)
    expect((await loadWallet(path)).address).toBe(second.address)
  })

  it('refuses a keystore other users can read, saying how to fix it', async () => {
    const path = join(dir, 'open.json')
    await createWallet(path)
    chmodSync(path, 0o644)
    await expect(loadWallet(path)).rejects.toMatchObject({
      code: 'CONFIG',
      message: `the wallet file ${path} can be read or changed by other users (mode 0644); make it private with: chmod 600 ${path}`,
    })
    chmodSync(path, 0o600)
    await expect(loadWallet(path)).resolves.toBeTruthy()
  })

  it('explains a missing or malformed keystore', async () => {
    await expect(loadWallet(join(dir, 'none.json'))).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringMatching(/no wallet at .*agora wallet create/),
    })
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, '{"privateKey":"0x1234"}', { mode: 0o600 })
    await expect(loadWallet(bad)).rejects.toMatchObject({ code: 'CONFIG', message: expect.stringMatching(/no valid privateKey/) })
  })

  it('lives in $AGORA_HOME, else ~/.agora', () => {
    expect(agoraHome({ AGORA_HOME: '/x/y' })).toBe('/x/y')
    expect(agoraHome({})).toBe(join(homedir(), '.agora'))
    expect(defaultWalletPath({ AGORA_HOME: '/x' })).toBe('/x/wallet.json')
    expect(defaultRecordPath({ AGORA_HOME: '/x' })).toBe('/x/payments.jsonl')
  })
})
