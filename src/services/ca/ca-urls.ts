/** Where relying parties find a CA's CRL, the OCSP responder and the CA certificate, on every VA base URL. */
export interface CaUrls {
  crlDistributionPoints: string[];
  ocspUrls: string[];
  caIssuersUrls: string[];
}

export function caUrls(vaBaseUrls: readonly string[], caId: string): CaUrls {
  const id = encodeURIComponent(caId);
  return {
    crlDistributionPoints: vaBaseUrls.map((b) => `${b}/api/va/crl/${id}`),
    ocspUrls: vaBaseUrls.map((b) => `${b}/api/va/ocsp`),
    caIssuersUrls: vaBaseUrls.map((b) => `${b}/api/ca/v1/cas/${id}/certificate`),
  };
}
