/** A distinguished name as Lamassu exposes it (one value per attribute). */
export interface Subject {
  commonName: string;
  organization?: string;
  organizationUnit?: string;
  country?: string;
  state?: string;
  locality?: string;
}
