/**
 * Buffers for outgoing datagrams, carved out of shared slabs. A send holds its buffer until
 * the socket has taken it, so a buffer is never reused: a full slab is simply replaced by a
 * new one and freed once its last send is done. Carving a view costs far less than
 * allocating an ArrayBuffer per reply, which the heartbeat path would otherwise do.
 */

/** Bytes per slab; a request larger than a quarter of this gets its own buffer. */
export const SEND_SLAB_BYTES = 64 * 1024;

/** Hands out fresh, never-reused byte buffers for outgoing datagrams. */
export class SendBuffers {
  #slab = new ArrayBuffer(SEND_SLAB_BYTES);
  #used = 0;

  /** A new zero-filled buffer of `length` bytes that nothing else will ever write to. */
  take(length: number): Uint8Array {
    if (length > SEND_SLAB_BYTES / 4) return new Uint8Array(length);
    if (this.#used + length > SEND_SLAB_BYTES) {
      this.#slab = new ArrayBuffer(SEND_SLAB_BYTES);
      this.#used = 0;
    }
    const view = new Uint8Array(this.#slab, this.#used, length);
    this.#used += length;
    return view;
  }
}
