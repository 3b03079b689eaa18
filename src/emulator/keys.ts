import { generateKeyPair, type KeyObject } from 'node:crypto';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { createClientCertificate, type ClientCertificate } from './certificates.js';

/** A clock the control route can move forward (only when the emulator owns its clock). */
export class OffsetClock implements Clock {
  offset = 0;
  constructor(private readonly base: Clock) {}
  now(): number {
    return this.base.now() + this.offset;
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.base.setTimeout(callback, delayMs);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.base.clearTimeout(handle);
  }
}

/**
 * RSA keys are the slow part of a start (tests start an emulator per test), so one process makes
 * them once: the token-signing key and apps[0]'s certificate. Tenants, secrets, CA and server
 * certificate stay per emulator, and tokens carry the tenant, so emulators still reject each
 * other's tokens.
 */
let sharedRsa: Promise<[KeyObject, ClientCertificate]> | undefined;
export function rsaMaterial(): Promise<[KeyObject, ClientCertificate]> {
  sharedRsa ??= Promise.all([generateSigningKey(), createClientCertificate('Presence Bridge')]);
  sharedRsa.catch(() => {
    sharedRsa = undefined;
  });
  return sharedRsa;
}

function generateSigningKey(): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (error, _publicKey, privateKey) => {
      if (error) reject(error);
      else resolve(privateKey);
    });
  });
}
