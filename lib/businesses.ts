import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BusinessRegistry, parseBusinesses } from '../domain/business';

export function loadBusinesses(file: string): BusinessRegistry {
  const resolved = path.resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(resolved, 'utf8'));
  } catch (err) {
    throw new Error(`BUSINESSES_FILE ${resolved}: cannot read JSON (${(err as Error).message})`, { cause: err });
  }
  try {
    return new BusinessRegistry(parseBusinesses(raw));
  } catch (err) {
    throw new Error(`BUSINESSES_FILE ${resolved}: ${(err as Error).message}`, { cause: err });
  }
}
