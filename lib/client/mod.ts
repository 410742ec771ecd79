/**
 * The client side of the wake protocol (what `bairelay wake`, the Reolink app and neolink
 * do): ask a middleman for the register, ask the register to wake a camera, then optionally
 * wait for the camera's TCP port. Import from here rather than from the files.
 */

export * from "../clock.ts";
export * from "./endpoint.ts";
export * from "./udp.ts";
export * from "./wake.ts";
export * from "./wait.ts";
export * from "./target.ts";
