import type { UserConfig } from 'vitest/config';
export declare function deeplineVitestConfig(overrides?: UserConfig): UserConfig;
