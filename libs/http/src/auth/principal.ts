/**
 * Who is calling, from a verified bearer token. `tenant` is the insurer or provider the principal acts for: an
 * insurer sees only its own claims, a provider only what names it.
 */
export const ROLES = ['insurer', 'provider', 'ops', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  subject: string;
  role: Role;
  tenant: string;
}

/** Token claims we read beside the registered ones (`sub`, `iss`, `aud`, `exp`). */
export const ROLE_CLAIM = 'role';
export const TENANT_CLAIM = 'tenant';
