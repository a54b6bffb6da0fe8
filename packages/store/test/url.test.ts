import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl, redactUrl } from '../src/url.js';

describe('parseDatabaseUrl', () => {
  it.each([
    ['./.alirefund/server.db', { kind: 'sqlite-file', path: './.alirefund/server.db' }],
    ['/var/lib/alirefund/db.sqlite', { kind: 'sqlite-file', path: '/var/lib/alirefund/db.sqlite' }],
    ['data.db', { kind: 'sqlite-file', path: 'data.db' }],
    ['C:\\data\\alirefund.db', { kind: 'sqlite-file', path: 'C:\\data\\alirefund.db' }],
    ['sqlite:data/x.db', { kind: 'sqlite-file', path: 'data/x.db' }],
    ['sqlite://data/x.db', { kind: 'sqlite-file', path: 'data/x.db' }],
    ['sqlite:///abs/x.db', { kind: 'sqlite-file', path: '/abs/x.db' }],
    ['file:data/x.db', { kind: 'sqlite-file', path: 'data/x.db' }],
    ['file:///abs/my%20x.db', { kind: 'sqlite-file', path: '/abs/my x.db' }],
    [':memory:', { kind: 'sqlite-memory' }],
    ['sqlite::memory:', { kind: 'sqlite-memory' }],
    ['postgres://u:p@h:5432/db', { kind: 'postgres', connectionString: 'postgres://u:p@h:5432/db' }],
    [
      'postgresql://h/db?sslmode=require',
      { kind: 'postgres', connectionString: 'postgresql://h/db?sslmode=require' },
    ],
  ])('%s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each([
    'mysql://u:secret@h/db',
    'mongodb+srv://u:secret@h/db',
    'http://u:secret@h/db',
    'postgres:u:secret@h/db',
    '',
    'sqlite:',
  ])('rejects %j naming the accepted forms, without the password', (url) => {
    let message = '';
    try {
      parseDatabaseUrl(url);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(':memory:');
    expect(message).toContain('sqlite:PATH');
    expect(message).toContain('file:PATH');
    expect(message).toContain('postgres://');
    expect(message).not.toContain('secret');
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://u:secret@h:5432/db', 'postgres://u:***@h:5432/db'],
    ['postgres://u@h/db', 'postgres://u@h/db'],
    ['postgres://u:se@cr/et@h/db', 'postgres://u:***@h/db'],
    [
      'postgres://h/db?user=u&password=secret&sslmode=require',
      'postgres://h/db?user=u&password=***&sslmode=require',
    ],
    ['./data/x.db', './data/x.db'],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
