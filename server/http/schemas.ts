/** JSON-schema building blocks shared by routes. */
export const errorReply = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    fieldErrors: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const uuidParam = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' } },
  required: ['id'],
  additionalProperties: false,
} as const;

export const paging = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  offset: { type: 'integer', minimum: 0, default: 0 },
} as const;

export function listOf(item: object) {
  return {
    type: 'object',
    properties: { items: { type: 'array', items: item }, total: { type: 'integer' } },
    required: ['items', 'total'],
  } as const;
}

export const commonErrors = { 400: errorReply, 401: errorReply, 403: errorReply, 404: errorReply, 409: errorReply } as const;
