/** Where the state lives: a SQLite file (embedded default) or a PostgreSQL database. */
export type StorageConfig =
  | { kind: 'sqlite'; file: string }
  | {
      kind: 'postgres';
      url: string;
      /** Tables live in this schema (created when missing) instead of `public`. */
      schema?: string;
      poolSize?: number;
    };
