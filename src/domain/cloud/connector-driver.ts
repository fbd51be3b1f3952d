/** A connector running in this process, as the cloud proxy sees it: nudged when work arrives, asked about a device live. */
export interface ConnectorDriver {
  id: string;
  type: string;
  /** Looks at its backlog now (a job was queued by an API call). */
  wake(): void;
  /** The device's state in the cloud, read now (thing, principals, shadow); undefined when the cloud has no thing for it. */
  liveDeviceState(deviceId: string): Promise<Record<string, unknown> | undefined>;
}
