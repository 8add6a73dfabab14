import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** The request body exactly as received (JSON media types), decoded as UTF-8: what the client really sent. */
export const RawBody = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined =>
  ctx.switchToHttp().getRequest<{ rawBody?: Buffer }>().rawBody?.toString('utf8'),
);
