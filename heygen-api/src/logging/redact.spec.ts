import { describe, expect, it } from 'vitest';
import { loggableUrl, shortClient } from './redact.js';

const UUID = '123e4567-e89b-42d3-a456-426614174000';

describe('shortClient', () => {
  it('should keep eight characters of the uuid and none of the key scope', () => {
    expect(shortClient(`0a1b2c3d4e5f6a7b/${UUID}`)).toBe('123e4567…');
    expect(shortClient(UUID)).toBe('123e4567…');
  });
});

describe('loggableUrl', () => {
  it('should remove an access token and shorten the client uuid wherever they are', () => {
    expect(loggableUrl(`/status?access_token=s3cret&uuid=${UUID}`)).toBe(
      '/status?access_token=[redacted]&uuid=123e4567…',
    );
    expect(loggableUrl(`/status/7?uuid=${UUID}&ACCESS_TOKEN=s3cret`)).toBe(
      '/status/7?uuid=123e4567…&ACCESS_TOKEN=[redacted]',
    );
  });

  it('should know a parameter by its decoded name, as the query parser does (review of 2026-12-01)', () => {
    expect(loggableUrl(`/status?u%75id=${UUID}&access%5Ftoken=s3cret&x=%zz`)).toBe(
      '/status?u%75id=123e4567…&access%5Ftoken=[redacted]&x=%zz',
    );
  });

  it.each([
    ['access_token%3Ds3cret', '[redacted]'],
    ['access_token%3Ds3cret=x', '[redacted]'],
    ['access_token[]=s3cret', '[redacted]'],
    ['access_token%5B%5D=s3cret', '[redacted]'],
    ['%20access_token=s3cret', '[redacted]'],
    ['+access_token=s3cret', '[redacted]'],
    ['access_token', 'access_token=[redacted]'],
  ])(
    'should remove the key from %s, a spelling the stream refuses (review of 2026-12-01)',
    (param, logged) => {
      expect(loggableUrl(`/status?uuid=${UUID}&${param}`)).toBe(`/status?uuid=123e4567…&${logged}`);
    },
  );

  it('should leave a URL without a query alone', () => {
    expect(loggableUrl('/status/7')).toBe('/status/7');
  });
});
