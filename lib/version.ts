/** bairelay's version, compiled in (deno.json's "version"; a test keeps the two equal). */
export const VERSION = "0.1.0";
