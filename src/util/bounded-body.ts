/**
 * Reads an HTTP response body of at most `limit` bytes. The server is untrusted, so a
 * declared or actual size over the limit stops the read (and cancels the stream) before
 * the excess is buffered. Throws an Error saying so; callers wrap it with their URL.
 */
export async function readBoundedBody(response: Response, limit: number): Promise<Buffer> {
  const tooLarge = () => new ResponseTooLargeError(limit);
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The response body is over the reader's limit. */
export class ResponseTooLargeError extends Error {
  override name = "ResponseTooLargeError";
  readonly limit: number;
  constructor(limit: number) {
    super(`the answer is larger than ${limit} bytes`);
    this.limit = limit;
  }
}
