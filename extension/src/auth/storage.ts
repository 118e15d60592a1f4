/**
 * supabase-js storage on VS Code SecretStorage: the session (access and refresh tokens) lives in the OS
 * keychain, shared by every window of this VS Code, which `secrets.onDidChange` keeps in step.
 */
import type * as vscode from 'vscode';
import type { SupportedStorage } from '@supabase/supabase-js';

export class SecretStorageAdapter implements SupportedStorage {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async getItem(key: string): Promise<string | null> {
    return (await this.secrets.get(key)) ?? null;
  }

  async setItem(key: string, value: string): Promise<void> {
    await this.secrets.store(key, value);
  }

  async removeItem(key: string): Promise<void> {
    await this.secrets.delete(key);
  }
}

/** In-memory storage for one OAuth attempt: its PKCE verifier never meets another attempt's. */
export class MemoryStorage implements SupportedStorage {
  private readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}
