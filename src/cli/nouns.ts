/** The first words that make `lamassu` an admin client (src/cli) rather than the server: main.ts dispatches on them. */
export const CLI_NOUNS: readonly string[] = ['ca', 'cert', 'profile', 'crl', 'ocsp', 'dms', 'device', 'device-group', 'est', 'bulk', 'kms'];
