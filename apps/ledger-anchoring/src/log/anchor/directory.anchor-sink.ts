import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AnchorSink, SignedCheckpoint } from './anchor-sink';

/**
 * Writes each checkpoint to `<dir>/<treeSize>.checkpoint` (the signed note, byte for byte). The file appears
 * whole or not at all (write to a temporary name, then rename), and rewriting one gives the same bytes.
 */
export class DirectoryAnchorSink implements AnchorSink {
  readonly name: string;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.name = `directory:${this.dir}`;
  }

  async publish(checkpoint: SignedCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${checkpoint.treeSize}.checkpoint`);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, checkpoint.note, { encoding: 'utf8', flush: true });
    await rename(temporary, file);
  }
}
