import { pino } from 'pino';

/** Structured JSON logs on stderr so stdout stays clean for CLI output (tables, JSON). */
export const log = pino(
  {
    level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    base: { svc: 'omnisearch' },
  },
  pino.destination(2),
);
export type Logger = typeof log;
