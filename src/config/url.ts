/** A URL with one of these protocols (`https:`, with the colon) and a host: what every address setting needs. */
export function urlWith(text: string, protocols: readonly string[]): URL | undefined {
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  return protocols.includes(url.protocol) && url.hostname !== '' ? url : undefined;
}

export const HTTP = ['http:', 'https:'] as const;
