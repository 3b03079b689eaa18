import { describe, expect, it } from 'vitest';
import { BridgeError, GraphConfigError } from '../../src/shared/errors.js';
import { GraphError } from '../../src/graph/types.js';
import { RetriesExhaustedError } from '../../src/graph/withRetry.js';
import { MappingError } from '../../src/presence/mapping.js';

describe('one error base with a stable code', () => {
  it('BridgeError keeps message, code, cause and the subclass name', () => {
    const cause = new Error('root');
    const error = new BridgeError('went wrong', 'SOME_CODE', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: 'went wrong', code: 'SOME_CODE', cause, name: 'BridgeError' });
    expect('cause' in new BridgeError('no cause', 'X')).toBe(false);
  });

  it.each([
    ['GraphError', new GraphError('forbidden', { code: 'FORBIDDEN', status: 403, hint: 'grant consent', retryable: false }), 'FORBIDDEN'],
    ['GraphConfigError', new GraphConfigError('graph.baseUrl: must be an https:// URL'), 'GRAPH_CONFIG'],
    ['RetriesExhaustedError', new RetriesExhaustedError(3, new GraphError('busy', { code: 'UNAVAILABLE', status: 503, hint: 'later', retryable: true })), 'RETRIES_EXHAUSTED'],
    ['MappingError', new MappingError('NO_NAME', 'input without a name'), 'NO_NAME'],
  ])('%s extends BridgeError with its own name and code', (name, error, code) => {
    expect(error).toBeInstanceOf(BridgeError);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
  });

  it('GraphError still carries its details; RetriesExhaustedError its cause', () => {
    const last = new GraphError('busy', { code: 'UNAVAILABLE', status: 503, hint: 'later', retryable: true, retryAfterMs: 1_500 });
    expect(last).toMatchObject({ status: 503, hint: 'later', retryable: true, retryAfterMs: 1_500 });
    const exhausted = new RetriesExhaustedError(3, last);
    expect(exhausted.cause).toBe(last);
    expect(exhausted.message).toBe('gave up after 3 attempts: busy');
  });
});
