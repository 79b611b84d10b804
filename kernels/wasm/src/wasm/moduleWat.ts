import { gemmWat } from './gemmWat.js';
import { gemvWat } from './gemvWat.js';
import { opsWat } from './opsWat.js';

/**
 * The complete WAT text of deepline's kernel module. It imports tfjs-wasm's heap as
 * `env.memory` and has no data segments or globals that touch memory, so it computes on
 * tensors in place without ever writing outside the pointers it is handed.
 */
export function kernelModuleWat(options: { fma?: boolean } = {}): string {
  return `(module
  (import "env" "memory" (memory 1))
${gemmWat(options)}
${gemvWat()}
${opsWat()}
)
`;
}
