/** Lamassu's path for the CA API (the shell's shared /api/v1 prefix does not fit it). */
export const CA_API_PREFIX = '/api/ca/v1';
/** The same prefix on the plain-HTTP listener, where caIssuers URLs point. */
export const CA_API_PREFIX_PUBLIC = CA_API_PREFIX;
