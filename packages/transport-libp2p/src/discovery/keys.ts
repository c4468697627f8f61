import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'

/** The multicodec of raw bytes; the DHT key is the multihash, so the codec only shapes the CID text. */
const RAW_CODEC = 0x55

/** The capabilities a server can be found by (spec §5.3 well-known keys). */
export type DiscoveryCapability = 'tools' | 'resources' | 'prompts'

/** Every {@link DiscoveryCapability}, in spec order. */
export const DISCOVERY_CAPABILITIES: readonly DiscoveryCapability[] = Object.freeze(['tools', 'resources', 'prompts'])

/**
 * The DHT key of a text: CIDv1 (raw) of its SHA-256 multihash. js kad-dht only accepts keys that
 * decode as a CID, and stores `cid.multihash.bytes` (`0x12 0x20 ‖ SHA256(text)`), so another
 * implementation must use those 34 bytes as its record key.
 *
 * @example
 * ```ts
 * textKey('mcp-service:*').toString() // 'bafkreifjwhtoubtxlkty6kb7cpmsvs52uz4o54ofopck6t76lenamsal7a'
 * ```
 */
export function textKey(text: string): CID {
  const digest = createHash('sha256').update(text, 'utf8').digest()
  return CID.createV1(RAW_CODEC, createDigest(sha256.code, new Uint8Array(digest)))
}

/**
 * The DHT key under which servers named `name` are announced: `SHA256("mcp-service:" + name)`.
 *
 * @example
 * ```ts
 * for await (const p of node.contentRouting.findProviders(serviceKey('weather'))) console.log(p.id)
 * ```
 */
export function serviceKey(name: string): CID {
  if (name.length === 0) throw new TypeError('serviceKey: the service name is empty')
  return textKey(`mcp-service:${name}`)
}

/**
 * The DHT key of every server with a capability: `SHA256("mcp-capability:" + capability)`.
 *
 * @example
 * ```ts
 * capabilityKey('tools').toString() // 'bafkreian3e5f3agn3xzadb5ey6a5mbrrou26wp46g3twkgm4x4dw5qnrue'
 * ```
 */
export function capabilityKey(capability: DiscoveryCapability): CID {
  if (!DISCOVERY_CAPABILITIES.includes(capability)) {
    throw new TypeError(`capabilityKey: expected one of ${DISCOVERY_CAPABILITIES.join(', ')}, got ${String(capability)}`)
  }
  return textKey(`mcp-capability:${capability}`)
}

/**
 * The DHT key every MCP server is announced under: `SHA256("mcp-service:*")`.
 *
 * @example
 * ```ts
 * await node.contentRouting.provide(ALL_SERVICES_KEY)
 * ```
 */
export const ALL_SERVICES_KEY: CID = textKey('mcp-service:*')
