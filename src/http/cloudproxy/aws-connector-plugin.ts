/**
 * The `aws-connector` service: the AWS IoT Core connector, registered in the cloud proxy's registry, following
 * the bus and working its backlog against AWS. It has no API of its own (the cloud proxy's is its API).
 */
import { hostname } from 'node:os';
import type { AwsConnectorConfig } from '../../config/config-schema.ts';
import { AwsIotConnector, DEFAULT_ROTATION } from '../../connectors/awsiot/aws-iot-connector.ts';
import type { ServicePluginFactory } from '../service-plugin.ts';
import { connectorDriversFor } from './connector-drivers.ts';
import { inProcessLamassuGateway } from './in-process-lamassu-gateway.ts';

const DEFAULTS: AwsConnectorConfig = { connectorId: 'aws-iot', retryBaseMs: 1000, retryMaxMs: 60_000, requestTimeoutMs: 10_000, rotationCheckMs: DEFAULT_ROTATION.checkMs, rotationGraceMs: DEFAULT_ROTATION.graceMs };

export const awsConnectorServicePlugin: ServicePluginFactory = async (deps) => {
  const settings = deps.config.aws ?? DEFAULTS;
  // Loaded only when this service runs: the AWS SDK is large and most deployments never need it.
  const { AwsSdkIotApi } = await import('../../connectors/awsiot/aws-sdk-iot-api.ts');
  const api = new AwsSdkIotApi({
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.iotEndpoint ? { iotEndpoint: settings.iotEndpoint } : {}),
    ...(settings.iotDataEndpoint ? { iotDataEndpoint: settings.iotDataEndpoint } : {}),
    requestTimeoutMs: settings.requestTimeoutMs,
  });
  const logger = deps.logger.child({ service: 'aws-connector', connector: settings.connectorId });
  const connector = new AwsIotConnector({
    id: settings.connectorId,
    repo: deps.storage.connectors,
    leases: deps.storage.leases,
    api,
    lamassu: inProcessLamassuGateway(deps, `connector:${settings.connectorId}`),
    clock: deps.clock,
    random: deps.random,
    logger,
    holder: `${hostname()}-${process.pid}-${deps.random.uuid().slice(0, 8)}`,
    retry: { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs },
    rotation: { checkMs: settings.rotationCheckMs, graceMs: settings.rotationGraceMs },
    settings: {
      region: settings.region ?? null,
      iot_endpoint: settings.iotEndpoint ?? null,
      iot_data_endpoint: settings.iotDataEndpoint ?? null,
      rotation_check_ms: settings.rotationCheckMs,
      rotation_grace_ms: settings.rotationGraceMs,
    },
  });
  const stop = await connector.start(deps.events);
  const drivers = connectorDriversFor(deps);
  drivers.set(connector.id, connector);
  logger.info('AWS IoT connector started');
  return {
    name: 'aws-connector',
    async close() {
      drivers.delete(connector.id);
      await stop();
      api.close();
    },
  };
};
