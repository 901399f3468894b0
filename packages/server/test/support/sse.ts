/** Reads Server-Sent Events from a stream until `until` accepts one; returns the events seen. */
export async function readEvents(
  response: Response,
  until: (event: { event: string; data: unknown }) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: unknown }[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) {
        const parsed = { event, data: JSON.parse(data) as unknown };
        events.push(parsed);
        if (until(parsed)) {
          await reader.cancel();
          return events;
        }
      }
    }
  }
}
