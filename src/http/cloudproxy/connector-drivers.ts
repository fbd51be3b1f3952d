/** The cloud connectors running in this server, by id: the connector plugins add theirs, the cloud proxy reads them. */
import type { ConnectorDriver } from '../../domain/cloud/connector-driver.ts';
import type { ServiceDeps } from '../service-plugin.ts';

const drivers = new WeakMap<ServiceDeps, Map<string, ConnectorDriver>>();

export function connectorDriversFor(deps: ServiceDeps): Map<string, ConnectorDriver> {
  let map = drivers.get(deps);
  if (!map) {
    map = new Map();
    drivers.set(deps, map);
  }
  return map;
}
