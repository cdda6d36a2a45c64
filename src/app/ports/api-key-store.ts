/** A stored API key: only its SHA-256 is kept. */
export interface ApiKeyRecord {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly revoked: boolean;
}

/** Looks up API keys by their hash. */
export interface ApiKeyStore {
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
}
