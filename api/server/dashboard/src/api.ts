// The public GraphQL API, as any client sees it: POST /graphql with the key, and
// graphql-transport-ws on /graphql/ws for the live panels.
import { createClient, type Client } from 'graphql-ws';

/** A GraphQL error as the server sends it. */
export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; argument?: string };
}

/** The request failed as a whole, or its data came with errors at `path`s. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errors: GqlError[] = [],
  ) {
    super(message);
  }
}

export type Vars = Record<string, unknown>;

export class Api {
  private ws: Client | null = null;

  constructor(private readonly key: string) {}

  /** Runs `query`; errors at paths listed in `tolerated` (e.g. a name without the `pii`
   * scope) leave nulls in the data instead of failing the whole answer. */
  async query<T>(query: string, variables: Vars, tolerated: string[] = []): Promise<{ data: T; errors: GqlError[] }> {
    let response: Response;
    try {
      response = await fetch('/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: `Bearer ${this.key}`,
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new ApiError('The server cannot be reached.', 'NETWORK');
    }
    let body: { data?: T | null; errors?: GqlError[] };
    try {
      body = await response.json();
    } catch {
      throw new ApiError(`The server answered ${response.status} without a GraphQL body.`, 'HTTP');
    }
    return settle(body, tolerated);
  }

  /** Subscribes to `query`; `next` gets every answer pushed. Returns the unsubscribe. */
  subscribe<T>(query: string, variables: Vars, next: (data: T) => void, failed: (e: ApiError) => void): () => void {
    if (!this.ws) {
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      this.ws = createClient({
        url: `${scheme}//${location.host}/graphql/ws`,
        connectionParams: { Authorization: `Bearer ${this.key}` },
        retryAttempts: Infinity,
        shouldRetry: () => true,
        lazy: true,
      });
    }
    return this.ws.subscribe<T>(
      { query, variables },
      {
        next: (answer) => {
          try {
            next(settle(answer as { data?: T | null; errors?: GqlError[] }, ['name', 'birthDate']).data);
          } catch (e) {
            failed(e instanceof ApiError ? e : new ApiError(String(e), 'CLIENT'));
          }
        },
        error: (e) => failed(new ApiError(describe(e), 'LIVE')),
        complete: () => {},
      },
    );
  }

  close(): void {
    void this.ws?.dispose();
    this.ws = null;
  }
}

function settle<T>(body: { data?: T | null; errors?: GqlError[] }, tolerated: string[]): { data: T; errors: GqlError[] } {
  const errors = body.errors ?? [];
  const fatal = errors.filter((e) => !(e.path && tolerated.includes(String(e.path[e.path.length - 1]))));
  if (body.data == null || fatal.length > 0) {
    const first = fatal[0] ?? errors[0];
    throw new ApiError(first?.message ?? 'No data in the answer.', first?.extensions?.code ?? 'UNKNOWN', errors);
  }
  return { data: body.data, errors };
}

function describe(e: unknown): string {
  if (Array.isArray(e)) return e.map((x) => (x as GqlError).message).join('; ');
  if (e instanceof CloseEvent) return `The live connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''}).`;
  if (e instanceof Error) return e.message;
  return 'The live connection failed.';
}
