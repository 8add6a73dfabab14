import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ServiceName } from '@claimchain/config';

/**
 * The production source files of one app, for the manifests' specs that check the manifests against what the code
 * does. Specs of every tier live beside the code (issue 13) and produce or read what they test, so they are left out.
 */
export function productionSourcesOf(service: ServiceName): string[] {
  return productionSourcesUnder(join(resolve(__dirname, '../..'), 'apps', service, 'src'));
}

/** All of an app's production source, as one text. */
export function productionSourceOf(service: ServiceName): string {
  return productionSourcesOf(service)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/** The production source files under a folder (specs left out). */
export function productionSourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return productionSourcesUnder(path);
    return e.name.endsWith('.ts') && !/[.-]spec\.ts$/.test(e.name) ? [path] : [];
  });
}
