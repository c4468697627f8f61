import { describe, expect, it } from 'vitest'
import { isJsonRpcId, jsonRpcProblem } from '../src/index.ts'

describe('jsonRpcProblem', () => {
  it('accepts requests, notifications, results and errors', () => {
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBeUndefined()
    expect(jsonRpcProblem({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBeUndefined()
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: 'a', result: {} })).toBeUndefined()
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } })).toBeUndefined()
  })

  it('names what is wrong', () => {
    expect(jsonRpcProblem([])).toBe('expected a JSON object')
    expect(jsonRpcProblem({ jsonrpc: '1.0', id: 1, method: 'x' })).toBe('"jsonrpc" must be "2.0"')
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: 1, method: '' })).toBe('"method" must be a non-empty string')
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: {}, method: 'x' })).toBe('"id" must be a string or a number')
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: 1, method: 'x', params: [1] })).toBe('"params" must be an object')
    expect(jsonRpcProblem({ jsonrpc: '2.0', result: {} })).toBe('"id" must be a string or a number')
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: 1, error: { code: 1.5, message: 'x' } })).toMatch(/integer "code"/)
    expect(jsonRpcProblem({ jsonrpc: '2.0', id: 1 })).toBe('expected "method", "result" or "error"')
  })

  it('takes strings and finite numbers as ids', () => {
    expect([isJsonRpcId('a'), isJsonRpcId(3), isJsonRpcId(Number.NaN), isJsonRpcId(null)]).toEqual([true, true, false, false])
  })
})
