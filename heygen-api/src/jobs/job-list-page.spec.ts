import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/unit/error-code.js';
import { listPageQuery, StartingAfterPipe } from './job-list-page.js';

describe('a page of the list of all jobs', () => {
  const none = {
    limit: undefined,
    startingAfter: undefined,
    ids: undefined,
    revisions: undefined,
    wait: undefined,
  };

  it('should be no page without limit or startingAfter', () => {
    expect(listPageQuery(none)).toBeUndefined();
    expect(listPageQuery({ ...none, ids: [1], wait: 5 })).toBeUndefined();
  });

  it('should be a page with either', () => {
    expect(listPageQuery({ ...none, limit: 2 })).toEqual({ limit: 2, startingAfter: undefined });
    expect(listPageQuery({ ...none, startingAfter: 5 })).toEqual({
      limit: undefined,
      startingAfter: 5,
    });
  });

  it.each([
    ['ids', { ids: [1] }],
    ['revisions', { revisions: [0] }],
    ['wait', { wait: 0 }],
  ])('should refuse a page with %s as INVALID_QUERY', (_, extra) => {
    expect(codeOf(() => listPageQuery({ ...none, limit: 2, ...extra }))).toBe('INVALID_QUERY');
  });

  it.each([['abc'], ['0'], ['1.5'], ['1234567890123456'], [['1', '2']]])(
    'should refuse startingAfter %j as INVALID_QUERY',
    (value) => {
      expect(codeOf(() => new StartingAfterPipe().transform(value))).toBe('INVALID_QUERY');
    },
  );

  it('should read startingAfter as a number, and its absence as none', () => {
    expect(new StartingAfterPipe().transform('42')).toBe(42);
    expect(new StartingAfterPipe().transform(undefined)).toBeUndefined();
  });
});
