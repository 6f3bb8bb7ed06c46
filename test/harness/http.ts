/** A response body as the tests read it: parsed JSON when it is JSON, else the raw text (HTML, TwiML, CSV). */
export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
