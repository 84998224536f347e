import { Ajv, type ErrorObject } from 'ajv';

/**
 * Request schemas are JSON Schema, checked by Ajv, Fastify's own validator, on both adapters; the
 * OpenAPI document shows the very same objects, so it cannot drift from the checks (issue 10;
 * docs/design.md, "Request schemas: JSON Schema, checked by Ajv"). `example` is OpenAPI's, not
 * JSON Schema's: declared, so that strict mode accepts it.
 */
const ajv = new Ajv({ allErrors: true, strict: true, keywords: ['example'] });

/** A JSON Schema, as the OpenAPI document shows it. */
export type JsonSchema = Record<string, unknown>;

/** A compiled check: compiled once, when its module loads. */
export interface Check<T> {
  (value: unknown): value is T;
  errors?: ErrorObject[] | null;
}

export function compileSchema<T>(schema: JsonSchema): Check<T> {
  return ajv.compile<T>(schema);
}

const TYPE_PHRASES: Record<string, string> = {
  integer: 'an integer number',
  number: 'a number',
  boolean: 'a boolean value',
  string: 'a string',
  object: 'an object',
};

/**
 * What is wrong with an object, one phrase per problem in the words the API has always used
 * (class-validator's, issue 6): unknown properties first, then one problem per property.
 */
export function describeProblems(errors: readonly ErrorObject[]): string[] {
  const unknown: string[] = [];
  const byField = new Map<string, string>();
  for (const error of errors) {
    const field = error.instancePath.slice(1).replaceAll('/', '.');
    if (error.keyword === 'additionalProperties') {
      unknown.push(`property ${String(error.params.additionalProperty)} should not exist`);
    } else if (!byField.has(field)) {
      byField.set(field, `${field} ${phrase(error)}`);
    }
  }
  return [...unknown, ...byField.values()];
}

function phrase({ keyword, params, message }: ErrorObject): string {
  switch (keyword) {
    case 'type':
      return `must be ${TYPE_PHRASES[String(params.type)] ?? String(params.type)}`;
    case 'minimum':
      return `must not be less than ${String(params.limit)}`;
    case 'maximum':
      return `must not be greater than ${String(params.limit)}`;
    default:
      return message ?? 'is not valid';
  }
}
