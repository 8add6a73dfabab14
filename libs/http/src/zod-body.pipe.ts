import { PipeTransform } from '@nestjs/common';
import { ZodTypeAny, z } from 'zod';
import { DomainError, ProblemFieldError } from './domain-error';
import { jsonPointer } from './json-pointer';

/** Turns zod issues into problem+json field errors, each named by the JSON pointer of the offending element. */
export function fieldErrorsOf(issues: z.ZodIssue[], base = ''): ProblemFieldError[] {
  return issues.map((issue) => ({
    pointer: base + jsonPointer(issue.path),
    detail: issue.message,
  }));
}

/** Validates a request part against a zod schema; failure is a 400 problem naming every offending field. */
export class ZodPipe<S extends ZodTypeAny> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly code = 'REQUEST.INVALID',
  ) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (!result.success) {
      throw new DomainError(this.code, 'invalid', 'The request is not valid', fieldErrorsOf(result.error.issues));
    }
    return result.data;
  }
}
