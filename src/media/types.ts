/** A decoded image ready for the models: RGB, 8-bit, already EXIF-rotated, alpha flattened. */
export interface DecodedImage {
  /** Interleaved RGB, row-major, `width * height * 3` bytes. */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3;
}
