/** The one error type the BcUdp codec throws. */

/** Every reason a packet could not be decoded or encoded (metrics list them all from the start). */
export const BCUDP_ERROR_REASONS = [
  "bad_magic",
  "truncated_header",
  "truncated_body",
  "crc_mismatch",
  "payload_too_large",
  "unknown_field_value",
  "malformed_xml",
  "unknown_variant",
  "out_of_range",
  "invalid_number",
  "missing_field",
] as const;

/** Why a packet could not be decoded or encoded. */
export type BcUdpErrorReason = typeof BCUDP_ERROR_REASONS[number];

/** Structured context for a BcUdpError (byte counts, positions, field names...). */
export type BcUdpErrorDetails = Record<string, string | number | boolean | undefined>;

/**
 * Every failure of the codec, whatever the input bytes: `reason` is machine-readable,
 * `details` carries the numbers (byte counts, expected/actual CRC, XML position, field).
 */
export class BcUdpError extends Error {
  readonly reason: BcUdpErrorReason;
  readonly details: BcUdpErrorDetails;

  constructor(reason: BcUdpErrorReason, message: string, details: BcUdpErrorDetails = {}) {
    super(message);
    this.name = "BcUdpError";
    this.reason = reason;
    this.details = details;
  }
}
