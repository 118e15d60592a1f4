/**
 * Two-factor authentication (TOTP) for the signed-in team account: setting up an authenticator app, and
 * confirming a sign-in with its code (aal1 → aal2), which team management needs. The session it reaches goes
 * back to AuthService, which hands it to the daemon.
 */
import * as vscode from 'vscode';
import type { Factor, Session, SupabaseClient } from '@supabase/supabase-js';
import { showMfaEnrolment } from './mfa-panel.js';
import { validateTotpCode } from './sign-in-checks.js';

/** What the MFA commands need of AuthService. */
export interface MfaHost {
  /** The persistent client when signed in to team mode; null (after saying why) otherwise. */
  signedInClient(): SupabaseClient | null;
  /** The persistent client of the configured project, signed in or not; null in embedded mode. */
  teamClient(): SupabaseClient | null;
  /** A session at a new assurance level: it replaces the current one and goes to the daemon. */
  adopt(session: Session | null): void;
  /** Hands the current session to the daemon again. */
  handOver(): Promise<void>;
}

export class MfaCommands {
  constructor(private readonly host: MfaHost) {}

  /**
   * The command (`cairn.enrollMfa`, "Verify or Set Up Two-Factor Authentication"). With a verified TOTP factor,
   * its 6-digit code confirms this sign-in (aal1 → aal2): a new sign-in is aal1, and Supabase Auth refuses a new
   * factor to an aal1 session once one is verified, so this is the only way back to aal2. Without one, it sets
   * one up (QR code and secret in a panel, then its code). Either way the aal2 session goes to the daemon.
   */
  async enrollMfa(): Promise<boolean> {
    const client = this.host.signedInClient();
    if (!client) return false;
    const factors = await client.auth.mfa.listFactors();
    if (factors.error) {
      void vscode.window.showErrorMessage(`Cairn: could not read your two-factor authentication settings: ${factors.error.message}`);
      return false;
    }
    // listFactors puts only verified factors under `totp`.
    const verified = factors.data.totp;
    if (verified.length === 0) return this.setUpTotp();
    const level = await client.auth.mfa.getAuthenticatorAssuranceLevel();
    if (level.data?.currentLevel === 'aal2') {
      // Nothing to confirm; handing the session over again repairs a daemon that missed it.
      await this.host.handOver();
      void vscode.window.showInformationMessage('Cairn: this sign-in is already confirmed with your second factor (aal2).');
      return true;
    }
    const factor = await pickFactor(verified);
    return factor ? this.stepUp(factor) : false;
  }

  /** Starts a TOTP enrolment for the signed-in user; null (after saying why) when it cannot. */
  async startMfaEnrolment(): Promise<{ factorId: string; secret: string; uri: string } | null> {
    const client = this.host.signedInClient();
    if (!client) return null;
    // Friendly names must be unique per user (Supabase checks that before anything else); to the millisecond, two set-ups never clash.
    const { data, error } = await client.auth.mfa.enroll({ factorType: 'totp', friendlyName: `Cairn ${new Date().toISOString().slice(0, 23)}` });
    if (error || !data) {
      const message =
        error?.code === 'insufficient_aal'
          ? 'you already have two-factor authentication, and a new authenticator can only be added once this sign-in is confirmed with it. Run "Cairn: Verify or Set Up Two-Factor Authentication" and enter its code first.'
          : `could not start two-factor set-up: ${error?.message ?? 'no answer'}`;
      void vscode.window.showErrorMessage(`Cairn: ${message}`);
      return null;
    }
    return { factorId: data.id, secret: data.totp.secret, uri: data.totp.uri };
  }

  /** Verifies a TOTP code for a newly enrolled factor; on success the session is aal2 (and handed to the daemon). */
  async verifyMfa(factorId: string, code: string): Promise<boolean> {
    if (!(await this.confirmFactor(factorId, code))) return false;
    void vscode.window.showInformationMessage('Cairn: two-factor authentication is on; this session is now at aal2.');
    return true;
  }

  /** Asks for the code of a verified factor until one is accepted (or the user gives up); true at aal2. */
  private async stepUp(factor: Factor): Promise<boolean> {
    const app = factor.friendly_name ? ` (${factor.friendly_name})` : '';
    let prompt = `Enter the 6-digit code your authenticator app${app} shows for Cairn`;
    for (let tries = 0; tries < 5; tries++) {
      const code = await vscode.window.showInputBox({
        title: 'Cairn: confirm this sign-in with two-factor authentication',
        prompt,
        ignoreFocusOut: true,
        validateInput: validateTotpCode,
      });
      if (!code) return false;
      if (await this.confirmFactor(factor.id, code)) {
        void vscode.window.showInformationMessage('Cairn: this sign-in is confirmed with your second factor (aal2); team management is open to it.');
        return true;
      }
      prompt = `That code was not accepted. Enter the current 6-digit code from your authenticator app${app} (if it keeps failing, check the time on this device).`;
    }
    return false;
  }

  /** A new TOTP factor: the QR code and secret in a panel, then the 6-digit code (reaching aal2). */
  private async setUpTotp(): Promise<boolean> {
    const enrolment = await this.startMfaEnrolment();
    if (!enrolment) return false;
    const panel = await showMfaEnrolment(enrolment.uri, enrolment.secret);
    try {
      for (let tries = 0; tries < 5; tries++) {
        const code = await vscode.window.showInputBox({
          title: 'Cairn: two-factor authentication',
          prompt: 'Enter the 6-digit code your authenticator app shows for Cairn',
          ignoreFocusOut: true,
          validateInput: validateTotpCode,
        });
        if (!code) return false;
        if (await this.verifyMfa(enrolment.factorId, code)) return true;
      }
      return false;
    } finally {
      panel.dispose();
    }
  }

  /** Challenges a factor and verifies its code; the aal2 session replaces this one and goes to the daemon. */
  private async confirmFactor(factorId: string, code: string): Promise<boolean> {
    const client = this.host.teamClient();
    if (!client) return false;
    const verified = await client.auth.mfa.challengeAndVerify({ factorId, code: code.trim() });
    if (verified.error) {
      void vscode.window.showWarningMessage(`Cairn: that code was not accepted (${verified.error.message}). Check the time on your device and enter the current code.`);
      return false;
    }
    const { data } = await client.auth.getSession();
    this.host.adopt(data.session);
    return true;
  }
}

/** The verified factor whose code to ask for: the only one, or the user's pick. */
async function pickFactor(factors: Factor[]): Promise<Factor | undefined> {
  if (factors.length === 1) return factors[0];
  const picked = await vscode.window.showQuickPick(
    factors.map((f) => ({ label: f.friendly_name || 'Authenticator app', description: `added ${new Date(f.created_at).toLocaleDateString()}`, factor: f })),
    { title: 'Cairn: confirm this sign-in with two-factor authentication', placeHolder: 'Which authenticator app will you take the code from?' },
  );
  return picked?.factor;
}
