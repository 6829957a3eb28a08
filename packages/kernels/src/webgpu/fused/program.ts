import type { DataType, TensorInfo } from '@tensorflow/tfjs';

/**
 * Running our own WGSL programs on tfjs-backend-webgpu through the backend instance a kernel is
 * given (`runWebGPUProgram`), so that nothing here imports the optional backend package. Every
 * tensor is bound as a flat array (a rank-1 view of the same data): the shaders index by hand, and
 * the backend's generated prelude stays the same whatever the tensors' ranks.
 */

/** A uniform value as the backend packs it. */
interface ProgramUniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** The fields of tfjs-backend-webgpu's `WebGPUProgram` we set; the backend fills in the rest when it runs one. */
interface GpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  getUserCode: () => string;
}

/** The parts of tfjs-backend-webgpu's `WebGPUBackend` used here. */
export interface WebGpuRunner {
  runWebGPUProgram(program: GpuProgram, inputs: TensorInfo[], outputDtype: DataType, uniforms: ProgramUniform[], output: TensorInfo): TensorInfo;
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array): TensorInfo;
  disposeData(dataId: TensorInfo['dataId']): boolean;
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
}

export function webGpuRunner(backend: unknown): WebGpuRunner {
  if (typeof (backend as Partial<WebGpuRunner>).runWebGPUProgram !== 'function') throw new Error('fused webgpu kernels: not a webgpu backend');
  return backend as WebGpuRunner;
}

/** One scalar uniform of a program, read in WGSL as `uniforms.<name>`. */
export interface Uniform {
  name: string;
  type: 'i32' | 'f32';
  value: number;
}

export interface ProgramSpec {
  /** The pipeline cache key: must name everything the WGSL depends on besides the uniforms. */
  key: string;
  /** Bound in this order, each as `array<f32>` under its name; `code` must name every one (layout 'auto' drops the others, and binding them fails). */
  inputs: ReadonlyArray<readonly [name: string, tensor: TensorInfo]>;
  outputShape: number[];
  /** At least one is read by `code`, for the same reason. */
  uniforms: readonly Uniform[];
  /** Invocations to launch (a whole number of workgroups is run; the code guards the excess). */
  invocations: number;
  workgroupSize: number;
  /** WGSL defining `fn main(index : i32)`, `index` the invocation's flat index; writes `result[...]`. */
  code: string;
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const flat = (t: TensorInfo): TensorInfo => ({ dataId: t.dataId, dtype: t.dtype, shape: [size(t.shape)] });

/** Runs one program into a new float32 tensor of `outputShape`. */
export function runProgram(runner: WebGpuRunner, spec: ProgramSpec): TensorInfo {
  const output = runner.makeTensorInfo(spec.outputShape, 'float32');
  const program: GpuProgram = {
    outputShape: [size(spec.outputShape)],
    shaderKey: `adl_${spec.key}`,
    dispatchLayout: { x: [0] },
    // The backend folds a dispatch over its per-dimension limit into 2-D; getGlobalIndex() unfolds it.
    dispatch: [Math.max(1, Math.ceil(spec.invocations / spec.workgroupSize)), 1, 1],
    variableNames: spec.inputs.map(([name]) => name),
    uniforms: spec.uniforms.map((u) => `${u.name} : ${u.type},`).join(' '),
    workgroupSize: [spec.workgroupSize, 1, 1],
    getUserCode: () => spec.code,
  };
  const uniforms = spec.uniforms.map((u): ProgramUniform => ({ type: u.type === 'f32' ? 'float32' : 'int32', data: [u.value] }));
  runner.runWebGPUProgram(
    program,
    spec.inputs.map(([, t]) => flat(t)),
    'float32',
    uniforms,
    flat(output),
  );
  return output;
}

/** A float32 tensor of `shape` filled with `value` (for empty inputs, where no program can run). */
export function constantTensor(runner: WebGpuRunner, shape: number[], value: number): TensorInfo {
  return runner.makeTensorInfo(shape, 'float32', new Float32Array(size(shape)).fill(value));
}

/** Element-wise programs: one invocation per output element. */
export const ELEMENTWISE_WORKGROUP = 64;

/** Column reductions: one workgroup of this many invocations per tile of columns. */
export const REDUCTION_WORKGROUP = 256;

/**
 * How a reduction workgroup splits: `tile` adjacent columns (adjacent in memory, so reads coalesce)
 * by `lanes` rows read in parallel. Narrow tensors get narrow tiles and more lanes.
 */
export function reductionTiling(columns: number): { tile: number; lanes: number } {
  let tile = 4;
  while (tile < 32 && tile < columns) tile *= 2;
  return { tile, lanes: REDUCTION_WORKGROUP / tile };
}

/**
 * WGSL for column reductions: `tileColumn()`, `tileLane()`, `workgroupIndex()` and
 * `sumLanes(value, slot)`, which adds up the values of a tile column's lanes (a tree in workgroup
 * memory) and returns the total to every lane. Every invocation of the workgroup must call it.
 * Each call of a shader takes its own `slot` (0 to slots − 1) of workgroup memory: reusing one
 * would need the previous call's reads ordered before the next call's writes, which llvmpipe's
 * OpenGL ES path was seen not to do.
 */
export function reductionSnippet(tile: number, lanes: number, slots: number): string {
  const slotSize = tile * lanes;
  return `
    var<workgroup> lanePartials : array<f32, ${slotSize * slots}>;
    fn tileColumn() -> i32 { return i32(localIndex % ${tile}u); }
    fn tileLane() -> i32 { return i32(localIndex / ${tile}u); }
    fn workgroupIndex() -> i32 {
      return i32((workgroupId.z * numWorkgroups.y + workgroupId.y) * numWorkgroups.x + workgroupId.x);
    }
    fn sumLanes(value : f32, slot : u32) -> f32 {
      let base = slot * ${slotSize}u;
      lanePartials[base + localIndex] = value;
      workgroupBarrier();
      for (var width = ${lanes / 2}u; width > 0u; width = width >> 1u) {
        if (localIndex < width * ${tile}u) {
          lanePartials[base + localIndex] = lanePartials[base + localIndex] + lanePartials[base + localIndex + width * ${tile}u];
        }
        workgroupBarrier();
      }
      return lanePartials[base + localIndex % ${tile}u];
    }
  `;
}
