/**
 * A distinguished name as Lamassu exposes it, one value per attribute. The field names are Lamassu's JSON
 * names on purpose: the same object travels from the API through the services to the DER encoder.
 */
export interface Subject {
  common_name?: string;
  organization?: string;
  organization_unit?: string;
  country?: string;
  state?: string;
  locality?: string;
  serial_number?: string;
}
