// Reading auth.json files picked or dropped by the operator, before the bulk import.

export interface PickedFile {
  name: string;
  text: string;
}

/// Checks that a picked file looks like a Codex auth.json, so an obvious mistake is reported per
/// file without a round trip. Null when it may be imported.
export function authJsonProblem(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'is not a JSON object';
  const tokens = (parsed as Record<string, unknown>).tokens;
  if (typeof tokens !== 'object' || tokens === null) return 'has no tokens (an API-key-only auth.json cannot be pooled)';
  return null;
}

export async function readFiles(files: FileList | File[]): Promise<PickedFile[]> {
  return Promise.all(Array.from(files).map(async (file) => ({ name: file.name, text: await file.text() })));
}
