import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'heygen:public';

/** Marks a route that needs no API key (health checks must work for the orchestrator). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
