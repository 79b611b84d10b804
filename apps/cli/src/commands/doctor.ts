import { type DoctorReport, diagnose, parseBackendChoice } from '@deepline/core';
import { type NativeKernelsStatus, nativeKernelsAvailable } from '@deepline/kernels-native';
import { type Command, parseFlags } from '../command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check Node, cores, every compute backend and a matmul on the selected one',
  usage: 'deepline doctor [--json] [--backend auto|node-gpu|node|webgpu|wasm|cpu]',
  async run({ argv, stdout }) {
    const { values } = parseFlags(argv, { json: { type: 'boolean' }, backend: { type: 'string' } });
    const backend = values.backend === undefined ? undefined : parseBackendChoice(values.backend, '--backend');
    const report = { ...(await diagnose({ backend })), native: nativeKernelsAvailable() };
    stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
    return report.matmulCheck.passed ? 0 : 1;
  },
};

export function formatDoctor(report: DoctorReport & { native?: NativeKernelsStatus }): string {
  const lines = [
    `node      ${report.node} (${report.platform}), ${report.cores} cores`,
    'backends:',
    ...report.backends.map((b) => `  ${b.available ? '✓' : '✗'} ${b.name.padEnd(9)} ${b.available ? 'available' : `unavailable: ${b.reason}`}`),
    `selected  ${report.selected}`,
    `matmul    ${report.matmulCheck.size}×${report.matmulCheck.size} ${report.matmulCheck.passed ? 'ok' : 'FAILED'} (max abs error ${report.matmulCheck.maxAbsError.toExponential(2)}, ${report.matmulCheck.gflops.toFixed(1)} GFLOP/s)`,
  ];
  if (report.native) {
    const n = report.native;
    lines.push(`native    ${n.available ? `✓ GEMM addon, ${n.isa} kernels (${n.supportedIsas?.join(', ')}), ${n.threads} thread(s)` : `✗ ${n.reason}`}`);
  }
  if (report.gpu) lines.push(`gpu       ${[report.gpu.vendor, report.gpu.architecture, report.gpu.device, report.gpu.description].filter(Boolean).join(' / ')}`);
  return `${lines.join('\n')}\n`;
}
