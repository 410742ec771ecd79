/** The wake server (middleman + register), its registry and options. Import from here. */

export * from "./server.ts";
export { type Address, type CameraEntry, CameraRegistry, type RegistryView } from "./registry.ts";
export { type SessionAnchor, SessionAnchors } from "./anchors.ts";
export { STATE_FILE_NAME } from "./state.ts";
