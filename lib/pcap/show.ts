/** Reads a capture into timeline entries and a summary (what `pcap-replay` prints by default). */

import { type ByteInput, ByteSource } from "./byte_source.ts";
import { type CaptureInfo, readCapture } from "./capture.ts";
import type { Summary } from "./summary.ts";
import { Timeline, type TimelineOptions } from "./timeline.ts";
import type { TimelineEntry } from "./timeline_entry.ts";

/** Options for `showCapture`. */
export interface ShowOptions extends TimelineOptions {
  /** Called now and then with the number of bytes read so far (for a progress bar). */
  onProgress?: (bytesRead: number) => void;
}

/** Frames between two progress callbacks. */
const PROGRESS_EVERY_FRAMES = 16384;

/**
 * Streams `input` (a pcap or pcapng file or stream; a file is closed at the end) through the timeline, handing each entry to
 * `emit` as it is found; returns what the reader learnt and the summary.
 * Throws CaptureFormatError when the input is not a capture.
 */
export async function showCapture(
  input: ByteInput,
  options: ShowOptions,
  emit: (entry: TimelineEntry) => void,
): Promise<{ info: CaptureInfo; summary: Summary }> {
  const source = new ByteSource(input);
  const timeline = new Timeline(options, emit);
  const progress = options.onProgress;
  try {
    const info = await readCapture(source, {
      frame(frame) {
        timeline.frame(frame);
        if (progress && frame.index % PROGRESS_EVERY_FRAMES === 0) progress(source.offset);
      },
      issue: (issue) => timeline.issue(issue),
    });
    return { info, summary: timeline.summary.result() };
  } finally {
    await source.close();
  }
}
