import type { Migration } from 'kysely';
import { foundation } from './0001-foundation.ts';
import { ca } from './0002-ca.ts';
import { dms } from './0003-dms.ts';
import { devices } from './0004-devices.ts';
import { va } from './0005-va.ts';
import { invalidityDate } from './0006-invalidity-date.ts';
import { lamassuFilters } from './0007-lamassu-filters.ts';
import { outbox } from './0008-outbox.ts';
import { expiryDeltas } from './0009-expiry-deltas.ts';
import { alerts } from './0010-alerts.ts';
import { deviceIcon } from './0011-device-icon.ts';
import { deviceGroups } from './0012-device-groups.ts';
import { kmsKeys } from './0013-kms-keys.ts';
import { cloudConnectors } from './0014-cloud-connectors.ts';
import { cloudRechecks } from './0015-cloud-rechecks.ts';

/**
 * Every migration, in order. To add one: create `NNNN-<name>.ts` next to this file (next free number,
 * schema builder only so it runs on both dialects) and append one line here. Never edit or rename a
 * migration that has been committed: databases in the field have recorded its name.
 */
export const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-ca': ca,
  '0003-dms': dms,
  '0004-devices': devices,
  '0005-va': va,
  '0006-invalidity-date': invalidityDate,
  '0007-lamassu-filters': lamassuFilters,
  '0008-outbox': outbox,
  '0009-expiry-deltas': expiryDeltas,
  '0010-alerts': alerts,
  '0011-device-icon': deviceIcon,
  '0012-device-groups': deviceGroups,
  '0013-kms-keys': kmsKeys,
  '0014-cloud-connectors': cloudConnectors,
  '0015-cloud-rechecks': cloudRechecks,
};
