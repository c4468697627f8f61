/**
 * Minimal bech32 (BIP-173) for tests that edit an invoice and re-checksum it, so the edit reaches
 * the signature check instead of failing the checksum. Written out because the payments package
 * does not depend on a bech32 library (bolt11's own is not exported).
 */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function polymod(values: number[]): number {
  let chk = 1
  for (const v of values) {
    const top = chk >>> 25
    chk = ((chk & 0x1ffffff) << 5) ^ v
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i] as number
  }
  return chk
}

const expand = (hrp: string) => [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)]

/** Splits a bech32 string into its human-readable part and data words (checksum dropped). */
export function bech32Split(text: string): { hrp: string; words: number[] } {
  const lower = text.toLowerCase()
  const at = lower.lastIndexOf('1')
  return { hrp: lower.slice(0, at), words: [...lower.slice(at + 1, -6)].map((c) => CHARSET.indexOf(c)) }
}

/** Joins a human-readable part and data words with a fresh checksum. */
export function bech32Join(hrp: string, words: number[]): string {
  const mod = polymod([...expand(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31)
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`
}
