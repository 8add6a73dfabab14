import { logFormatOf, ServiceLogger } from './service-logger';

/** The escape that starts an ANSI colour code. */
const ESC = String.fromCharCode(27);

describe(ServiceLogger.name, () => {
  let written: string[];
  let write: jest.SpyInstance;

  beforeEach(() => {
    written = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    write = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  });

  afterEach(() => jest.restoreAllMocks());

  it('writes one JSON object per line naming level, time, service and context, and the stack of an error', () => {
    const logger = new ServiceLogger('payout', 'log', 'json', {});
    logger.log('payout sent', 'PayoutDispatcherService');
    logger.error('ledger check failed', 'Error: boom\n    at x', 'LedgerCircuitBreakerService');
    logger.debug('not at this level', 'Anything');
    expect(written).toHaveLength(2);
    const [info, error] = written.map((line) => {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.trim()).not.toContain('\n');
      return JSON.parse(line) as Record<string, unknown>;
    });
    expect(info).toMatchObject({
      level: 'log',
      service: 'payout',
      context: 'PayoutDispatcherService',
      message: 'payout sent',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(error).toMatchObject({ level: 'error', message: 'ledger check failed', stack: 'Error: boom\n    at x' });
    expect(written.join('')).not.toContain(`${ESC}[`);
  });

  it('writes readable text without colour codes off a terminal, and with them only when asked', () => {
    new ServiceLogger('claim-intake', 'log', 'text', {}).warn('queue full', 'ClaimSubmissionBatcher');
    expect(written.join('')).toMatch(/\[claim-intake\].*WARN.*\[ClaimSubmissionBatcher\] queue full/);
    expect(written.join('')).not.toContain(`${ESC}[`);
    written.length = 0;
    new ServiceLogger('claim-intake', 'log', 'text', { FORCE_COLOR: '1' }).warn('queue full', 'X');
    expect(written.join('')).toContain(`${ESC}[`);
    written.length = 0;
    new ServiceLogger('claim-intake', 'log', 'text', { FORCE_COLOR: '1', NO_COLOR: '1' }).warn('queue full', 'X');
    expect(written.join('')).not.toContain(`${ESC}[`);
    expect(write).toHaveBeenCalled();
  });

  it('chooses JSON off a terminal and text on one, unless LOG_FORMAT says, and refuses any other format', () => {
    expect(logFormatOf({}, false)).toBe('json');
    expect(logFormatOf({}, true)).toBe('text');
    expect(logFormatOf({ LOG_FORMAT: 'TEXT' }, false)).toBe('text');
    expect(logFormatOf({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(() => logFormatOf({ LOG_FORMAT: 'xml' }, true)).toThrow(/LOG_FORMAT must be json or text/);
  });
});
