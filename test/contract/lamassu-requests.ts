/** Request bodies as Lamassu v3 clients send them (docs/*-openapi.yaml, its UI and Go SDK). */

/** As a Lamassu v3 client (its UI, its Go SDK) creates a DMS: Lamassu's CreateDMSBody. */
export const lamassuDmsBody = (id: string, enrollmentCa: string, validationCa: string) => ({
  id,
  name: 'Lamassu line',
  metadata: { site: 'plant-7' },
  settings: {
    server_keygen_settings: { enabled: false, key: { type: 'ECDSA', bits: 256 } },
    enrollment_settings: {
      protocol: 'EST_RFC7030',
      est_rfc7030_settings: {
        auth_mode: 'CLIENT_CERTIFICATE',
        client_certificate_settings: { validation_cas: [validationCa], chain_level_validation: -1, allow_expired: false },
      },
      device_provisioning_profile: { icon: 'BiSolidCreditCardFront', icon_color: '#25ee32-#222222', metadata: { line: 7 }, tags: ['iot', 'line-7'] },
      enrollment_ca: enrollmentCa,
      enable_replaceable_enrollment: true,
      registration_mode: 'JITP',
      verify_csr_signature: true,
    },
    reenrollment_settings: {
      additional_validation_cas: [],
      revoke_on_reenrollment: true,
      reenrollment_delta: '168h',
      enable_expired_renewal: false,
      preventive_delta: '31d',
      critical_delta: '7d',
    },
    ca_distribution_settings: { include_system_ca: true, include_enrollment_ca: false, managed_cas: [] },
  },
});
