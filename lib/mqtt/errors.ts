/** Errors of the MQTT bridge that need no MQTT client to name (so the CLI can load them cheaply). */

/** A file named in `[mqtt]` could not be read. */
export class MqttConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MqttConfigError";
  }
}
