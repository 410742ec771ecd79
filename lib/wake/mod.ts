/** The wake server (middleman + register), its registry and options. Import from here. */

export * from "./server.ts";
export {
  type Address,
  type CameraEntry,
  CameraRegistry,
  type RegistryView,
  type SessionAnchor,
  SessionAnchors,
} from "./registry.ts";
export { STATE_FILE_NAME } from "./state.ts";
