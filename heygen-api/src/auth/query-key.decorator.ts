import { SetMetadata } from '@nestjs/common';

export const QUERY_KEY = 'heygen:queryKey';

/**
 * Marks the route whose event stream may carry its API key as `?access_token=`: a browser
 * EventSource cannot send headers. Only there: a key in a URL ends up in histories and logs, and
 * one leaked from a stream's URL must not also create jobs or rotate the webhook secret.
 */
export const AcceptsQueryKey = (): MethodDecorator => SetMetadata(QUERY_KEY, true);
