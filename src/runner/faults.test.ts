import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseError } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import { markNotRetrySafe, isRetrySafe } from '../materializations/index.ts';
import { runLockKey } from '../adapters/run-lock.ts';
import { CancelledError, isCancellation, isConnectionLost, isStatementTimeout } from './faults.ts';

describe('fault classification', () => {
  it('a lost connection: admin shutdown, crash, starting up, class 08, socket errors — also as a cause', () => {
    for (const state of ['57P01', '57P02', '57P03', '08006', '08001']) assert.ok(isConnectionLost(new DatabaseError('x', { sqlState: state })), state);
    assert.ok(isConnectionLost(new DatabaseError('Connection terminated unexpectedly')));
    assert.ok(isConnectionLost(new DatabaseError('connect ECONNREFUSED 127.0.0.1:5432')));
    assert.ok(isConnectionLost(new TsdbtError('dependent-view-blocked', 'x', { cause: new DatabaseError('x', { sqlState: '57P01' }) })));
    assert.ok(!isConnectionLost(new DatabaseError('relation "x" does not exist', { sqlState: '42P01' })));
    assert.ok(!isConnectionLost(new DatabaseError('canceling statement due to user request', { sqlState: '57014' })));
  });

  it('a statement timeout and a cancel are both 57014, told apart by the message', () => {
    const timeout = new DatabaseError('canceling statement due to statement timeout', { sqlState: '57014' });
    const cancel = new DatabaseError('canceling statement due to user request', { sqlState: '57014' });
    assert.ok(isStatementTimeout(timeout) && !isCancellation(timeout));
    assert.ok(isCancellation(cancel) && !isStatementTimeout(cancel));
    assert.ok(isCancellation(new CancelledError()));
  });

  it('retry safety is marked on the error and found through causes', () => {
    const e = markNotRetrySafe(new DatabaseError('x', { sqlState: '57P01' }));
    assert.equal(isRetrySafe(e), false);
    assert.equal(isRetrySafe(new Error('wrapped', { cause: e })), false);
    assert.equal(isRetrySafe(new DatabaseError('y', { sqlState: '57P01' })), true);
  });

  it('run lock keys: stable, non-negative 31-bit, distinct per database and schema', () => {
    const k = runLockKey('test', 'analytics');
    assert.equal(k, runLockKey('test', 'analytics'));
    assert.ok(k >= 0 && k < 2 ** 31);
    assert.notEqual(k, runLockKey('test', 'analytics2'));
    assert.notEqual(k, runLockKey('prod', 'analytics'));
  });
});
