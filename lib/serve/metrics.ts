/**
 * The `/metrics` series read from state at scrape time rather than counted as events: build
 * information, the process's memory and start time, the MQTT connection, and one series per
 * camera in the registry (so their number is bounded by `max_cameras`).
 */

import type { Metrics } from "../metrics.ts";
import { VERSION } from "../version.ts";
import type { RegistryView } from "../wake/registry.ts";

/** Where the scrape-time series come from. */
export interface ServiceMetricsSources {
  registry: RegistryView;
  /** True while the camera's motion hold is on. */
  isMoving: (uid: string) => boolean;
  /** True while the MQTT bridge is connected (false when no broker is configured). */
  mqttConnected: () => boolean;
  /** Clock in ms since the epoch (default Date.now). */
  now?: () => number;
}

/** Registers the series and the collector that refreshes them before every render. */
export function addServiceMetrics(metrics: Metrics, sources: ServiceMetricsSources): void {
  const now = sources.now ?? Date.now;
  metrics.gauge("bairelay_build_info", "bairelay's version and the Deno and V8 it runs on (1)")
    .set(1, { version: VERSION, deno: Deno.version.deno, v8: Deno.version.v8 });
  metrics.gauge("process_start_time_seconds", "Start time of the process since the epoch, seconds")
    .set(Math.round(performance.timeOrigin) / 1000);
  const resident = metrics.gauge("process_resident_memory_bytes", "Resident memory size, bytes");
  const mqtt = metrics.gauge(
    "bairelay_mqtt_connected",
    "1 while the MQTT bridge is connected to the broker, else 0 (also when none is configured)",
  );
  const heartbeat = metrics.gauge(
    "bairelay_camera_last_heartbeat_timestamp_seconds",
    "Time of the camera's last heartbeat since the epoch, seconds, by uid and configured name",
  );
  const registered = metrics.gauge(
    "bairelay_camera_registered",
    "1 while the camera heartbeats (fresh), 0 once stale, by uid and configured name",
  );
  const motion = metrics.gauge(
    "bairelay_camera_motion",
    "1 while the camera reports motion (push listener), else 0, by uid and configured name",
  );
  const collect = () => {
    resident.set(Deno.memoryUsage().rss);
    mqtt.set(sources.mqttConnected() ? 1 : 0);
    for (const gauge of [heartbeat, registered, motion]) gauge.clear();
    const at = now();
    for (const entry of sources.registry.list()) {
      const labels = { uid: entry.uid, name: entry.name ?? "" };
      heartbeat.set(entry.lastHeartbeat / 1000, labels);
      registered.set(sources.registry.isFresh(entry, at) ? 1 : 0, labels);
      motion.set(sources.isMoving(entry.uid) ? 1 : 0, labels);
    }
  };
  collect();
  metrics.collect(collect);
}
