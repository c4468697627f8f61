/** The libp2p protocol id of MCP over libp2p (spec §2). */
export const MCP_PROTOCOL = '/mcp/1.0.0'

/** The largest message every implementation must accept: 16 MiB of JSON (spec §3.2). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024

/** Bytes of the big-endian u32 length prefix in front of every message (spec §3.1). */
export const LENGTH_PREFIX_BYTES = 4
