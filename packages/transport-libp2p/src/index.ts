/**
 * MCP over libp2p for Agora: the `/mcp/1.0.0` transport (u32 big-endian framed JSON-RPC), a node
 * factory with the recommended stack, DHT discovery and per-peer limits.
 *
 * @packageDocumentation
 */
export { loadOrCreateKey } from './keys.ts'
export type { AgoraNode, AgoraNodeOptions } from './node.ts'
export { createAgoraNode, DEFAULT_DHT_PROTOCOL } from './node.ts'
