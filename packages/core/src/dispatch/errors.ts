import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server'
import { isAgoraError } from '../errors.ts'
import type { Logger } from '../logger.ts'

/**
 * Maps anything a gate or dispatch threw to the JSON-RPC error the client receives. Agora errors
 * keep their message and stable code; unexpected errors become a generic internal error (logged
 * here with their stack, never sent).
 */
export function toProtocolError(err: unknown, logger: Logger): ProtocolError {
  if (err instanceof ProtocolError) return err
  if (isAgoraError(err)) return new ProtocolError(err.wireCode, err.message, err.toWireData())
  logger.error('unexpected error in request handling', { error: err instanceof Error ? err.stack : String(err) })
  return new ProtocolError(ProtocolErrorCode.InternalError, 'Internal error')
}
