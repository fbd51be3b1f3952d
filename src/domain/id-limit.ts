/**
 * One limit for every id a route names (CA, DMS, device, issuance profile): ids go into URLs (CRL and
 * caIssuers URLs written into certificates, EST labels, the admin API), and the HTTP router refuses path
 * parameters longer than this. An id that can be created can always be addressed.
 */
export const ID_MAX_LENGTH = 128;

/**
 * Ids of letters and digits plus `.`, `_`, `-` (and `extra`), starting with a letter or digit: one URL path
 * segment as is, no `/`, no NUL, at most ID_MAX_LENGTH characters.
 */
export const idPattern = (extra = ''): RegExp => new RegExp(`^[A-Za-z0-9][A-Za-z0-9._${extra}-]{0,${ID_MAX_LENGTH - 1}}$`);
