/** What a command that verified hands the CLI to print: a line for people, fields for the JSON line on stdout. */
export interface CommandResult {
  readonly summary: string;
  readonly details: Record<string, unknown>;
  readonly warnings: readonly string[];
}
