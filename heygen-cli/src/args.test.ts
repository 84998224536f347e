import { describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from './args.js';

describe(parseCliArgs.name, () => {
  it('should default to five jobs, 3000 ms, auto mode, with the disruption', () => {
    expect(parseCliArgs([])).toEqual({
      jobs: 5,
      jobTime: 3000,
      jobTimeGiven: false,
      mode: 'auto',
      pollInterval: 1000,
      drop: true,
      port: 0,
      instances: 1,
      json: false,
      help: false,
      version: false,
      fallback: true,
      fail: [],
      webhook: false,
    });
  });

  it('should name JOB_TIME, not the flag, when its value is bad', () => {
    expect(() => parseCliArgs([], { JOB_TIME: 'abc' })).toThrow(
      /^JOB_TIME must be an integer from 0 to 600000, not "abc"$/,
    );
  });

  it('should take JOB_TIME from the environment, and --job-time over it', () => {
    expect(parseCliArgs([], { JOB_TIME: '500' })).toMatchObject({
      jobTime: 500,
      jobTimeGiven: true,
    });
    expect(parseCliArgs([], { JOB_TIME: '' }).jobTime).toBe(3000);
    expect(parseCliArgs(['--job-time', '700'], { JOB_TIME: '500' }).jobTime).toBe(700);
  });

  it('should read every option', () => {
    expect(
      parseCliArgs([
        '--jobs=3',
        '--mode',
        'poll',
        '--poll-interval',
        '250',
        '--no-drop',
        '--url',
        'http://localhost:4000/',
        '--json',
        '--fail',
        '2',
        '--fail=3',
        '--webhook',
        '-h',
      ]),
    ).toMatchObject({
      jobs: 3,
      mode: 'poll',
      pollInterval: 250,
      drop: false,
      url: 'http://localhost:4000',
      json: true,
      help: true,
      fail: [2, 3],
      webhook: true,
    });
  });

  it.each([
    [['--jobs', '0'], /--jobs must be an integer from 1/],
    [['--jobs', 'five'], /--jobs/],
    [['--job-time', '-1'], /--job-time/],
    [['--mode', 'carrier-pigeon'], /--mode must be auto, sse or poll/],
    [['--url', 'not a url'], /--url must be an http:\/\/ URL/],
    [['--url', 'https://api.example.com'], /--url must be an http:\/\/ URL/],
    [['--url', 'http://x', '--port', '80'], /cannot be used with --url/],
    [['--frobnicate'], /^unknown option --frobnicate$/],
    [['--jobs', '2', '--fail', '3'], /--fail must be an integer from 1 to 2/],
    [['extra'], /^unexpected argument extra: every option starts with --$/],
    [['--', '--jobs', '2'], /^unexpected argument --jobs: options come before --$/],
    [['--jobs', '-1'], /^--jobs must be an integer from 1 to 1000, not "-1"$/],
    [['--job-time', '-5'], /^--job-time must be an integer from 0 to 600000, not "-5"$/],
    [['--jobs'], /^--jobs needs a value$/],
    [['--url', '--json'], /^--url needs a value$/],
    [['--mode', 'poll', '--no-fallback'], /--no-fallback is for --mode sse or auto/],
    [['--instances', '0'], /^--instances must be an integer from 1 to 8, not "0"$/],
    [['--instances', '9'], /^--instances must be an integer from 1 to 8, not "9"$/],
    [['--instances', '-2'], /^--instances must be an integer from 1 to 8, not "-2"$/],
    [['--instances', 'two'], /^--instances must be an integer from 1 to 8, not "two"$/],
    [['--instances', '1.5'], /^--instances must be an integer from 1 to 8/],
    [['--instances'], /^--instances needs a value$/],
    [['--instances', '2', '--url', 'http://x'], /--instances .* cannot be used with --url$/],
    [['--instances', '3', '--port', '4000'], /^--port is for a single server; with --instances/],
  ])('should refuse %j with a one-line message', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
    expect(() => parseCliArgs(argv)).not.toThrow(/\n/);
  });

  it('should read --instances from 1 to 8, and allow --url and --port with one', () => {
    expect(parseCliArgs(['--instances', '2']).instances).toBe(2);
    expect(parseCliArgs(['--instances=8']).instances).toBe(8);
    expect(parseCliArgs(['--instances', '1', '--port', '4000']).instances).toBe(1);
    expect(parseCliArgs(['--instances', '1', '--url', 'http://x']).url).toBe('http://x');
  });

  it('should read --version and -v', () => {
    expect(parseCliArgs(['--version']).version).toBe(true);
    expect(parseCliArgs(['-v']).version).toBe(true);
  });

  it('should turn the fallback off with --no-fallback, and never use it in POLL mode', () => {
    expect(parseCliArgs(['--mode', 'sse', '--no-fallback']).fallback).toBe(false);
    expect(parseCliArgs(['--mode', 'sse']).fallback).toBe(true);
    expect(parseCliArgs(['--mode', 'poll']).fallback).toBe(false);
  });
});
