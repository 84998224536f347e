import { describe, expect, it } from 'vitest';
import { newJob } from '../domain/job.js';
import { codeOf } from '../../test/unit/error-code.js';
import {
  CatchUpLimitPipe,
  catchUpPage,
  catchUpQuery,
  EventIdPipe,
  MAX_CATCH_UP_EVENTS,
} from './catch-up.js';

const eventStub = (id: number) => ({
  id: String(id),
  job: { ...newJob(7, 1000, 0), eventId: String(id) },
});

describe('catch-up', () => {
  describe(EventIdPipe.name, () => {
    const sut = new EventIdPipe();

    it('should pass an absent after as undefined and an event id as it is', () => {
      expect(sut.transform(undefined)).toBeUndefined();
      expect(sut.transform('1764504000123')).toBe('1764504000123');
      expect(sut.transform('0')).toBe('0');
    });

    it.each([[''], ['abc'], ['1.5'], ['-1'], [' 1'], ['12345678901234567'], [['1', '2']]])(
      'should refuse %j as INVALID_QUERY',
      (value) => {
        expect(codeOf(() => sut.transform(value))).toBe('INVALID_QUERY');
      },
    );
  });

  describe(CatchUpLimitPipe.name, () => {
    const sut = new CatchUpLimitPipe();

    it('should pass an absent limit as undefined and a limit in range as a number', () => {
      expect(sut.transform(undefined)).toBeUndefined();
      expect(sut.transform('1')).toBe(1);
      expect(sut.transform(String(MAX_CATCH_UP_EVENTS))).toBe(MAX_CATCH_UP_EVENTS);
    });

    it.each([['0'], ['01'], [String(MAX_CATCH_UP_EVENTS + 1)], ['10000'], ['x'], [['5']]])(
      'should refuse %j as INVALID_QUERY',
      (value) => {
        expect(codeOf(() => sut.transform(value))).toBe('INVALID_QUERY');
      },
    );
  });

  describe(catchUpQuery.name, () => {
    const none = { after: undefined, limit: undefined, ids: undefined, revisions: undefined };

    it('should be the batch without after, and a page of the list with limit alone', () => {
      expect(catchUpQuery(none)).toBeUndefined();
      expect(catchUpQuery({ ...none, ids: [1] })).toBeUndefined();
      expect(catchUpQuery({ ...none, limit: 3 })).toBeUndefined();
    });

    it('should catch up from after, MAX_CATCH_UP_EVENTS at a time unless limit says less', () => {
      expect(catchUpQuery({ ...none, after: '5' })).toEqual({
        after: '5',
        limit: MAX_CATCH_UP_EVENTS,
      });
      expect(catchUpQuery({ ...none, after: '5', limit: 3 })).toEqual({ after: '5', limit: 3 });
    });

    it.each([
      ['after with startingAfter', { ...none, after: '5', startingAfter: 3 }],
      ['after with wait', { ...none, after: '5', wait: 5 }],
      ['after with ids', { ...none, after: '5', ids: [1] }],
      ['after with revisions', { ...none, after: '5', revisions: [0] }],
    ])('should refuse %s as INVALID_QUERY', (_, query) => {
      expect(codeOf(() => catchUpQuery(query))).toBe('INVALID_QUERY');
    });
  });

  describe(catchUpPage.name, () => {
    const events = [1, 2, 3].map(eventStub);

    it('should answer every event, and no more, when they fit', () => {
      expect(catchUpPage(events, 3)).toEqual({ events, more: false });
      expect(catchUpPage([], 3)).toEqual({ events: [], more: false });
    });

    it('should answer the oldest limit events, and say more follow', () => {
      expect(catchUpPage(events, 2)).toEqual({ events: events.slice(0, 2), more: true });
    });

    it('should answer only the id and the job of each event', () => {
      const [page] = catchUpPage([{ ...events[0]!, clientId: 'secret' } as never], 1).events;
      expect(Object.keys(page!)).toEqual(['id', 'job']);
    });
  });
});
