import * as tf from '@tensorflow/tfjs';
import { UserInputError } from './errors.js';
import { isVariableNameTaken } from './autograd/engine.js';

/** Parameters are grouped so that, e.g., architecture parameters (α, β) and weights are optimised apart. */
export type ParameterGroup = 'weight' | 'arch' | (string & {});

interface ParameterEntry {
  variable: tf.Variable;
  group: ParameterGroup;
}

/** A tensor map keyed by module-relative path (`cell3/edge5/sep_conv_3x3/dw/kernel`). */
export type StateDict = Map<string, tf.Tensor>;

/**
 * A variable name that no live tfjs variable has yet. tfjs keeps one global namespace of variable
 * names, so two supernets built in one process would otherwise collide.
 */
export function uniqueVariableName(name: string): string {
  if (!isVariableNameTaken(name)) return name;
  for (let i = 2; ; i++) {
    const candidate = `${name}_${i}`;
    if (!isVariableNameTaken(candidate)) return candidate;
  }
}

/**
 * The base of every network part: named trainable parameters, non-trainable buffers (BN running
 * statistics), children, train/eval mode, parameter groups, state dicts and disposal.
 *
 * Variables get readable, globally unique names built from the module path
 * (`supernet/cell3/edge5/sep_conv_3x3/dw/kernel`); state dicts use the path relative to the module
 * they are taken from, so a network rebuilt under another name still loads them.
 */
export class Module {
  private readonly ownParameters = new Map<string, ParameterEntry>();
  private readonly ownBuffers = new Map<string, tf.Variable>();
  private readonly ownChildren = new Map<string, Module>();
  private isTraining = true;

  constructor(readonly name: string) {}

  /** The full name of a child or variable of this module. */
  protected scoped(localName: string): string {
    return this.name ? `${this.name}/${localName}` : localName;
  }

  /** Registers a trainable parameter; `init` runs inside `tf.tidy`, so temporaries are freed. */
  protected addParameter(localName: string, init: () => tf.Tensor, group: ParameterGroup = 'weight'): tf.Variable {
    this.assertFreeName(localName);
    const variable = tf.tidy(() => tf.variable(init(), true, uniqueVariableName(this.scoped(localName))));
    this.ownParameters.set(localName, { variable, group });
    return variable;
  }

  /** Registers a non-trainable buffer (e.g. running statistics), saved in state dicts. */
  protected addBuffer(localName: string, init: () => tf.Tensor): tf.Variable {
    this.assertFreeName(localName);
    const variable = tf.tidy(() => tf.variable(init(), false, uniqueVariableName(this.scoped(localName))));
    this.ownBuffers.set(localName, variable);
    return variable;
  }

  /** Registers a child module, built with its full name. */
  protected addChild<M extends Module>(localName: string, build: (name: string) => M): M {
    this.assertFreeName(localName);
    const child = build(this.scoped(localName));
    child.train(this.isTraining);
    this.ownChildren.set(localName, child);
    return child;
  }

  private assertFreeName(localName: string): void {
    if (localName.length === 0 || localName.includes('/')) {
      throw new Error(`Module ${this.name}: invalid local name '${localName}'`);
    }
    if (this.ownParameters.has(localName) || this.ownBuffers.has(localName) || this.ownChildren.has(localName)) {
      throw new Error(`Module ${this.name}: '${localName}' is already registered`);
    }
  }

  get training(): boolean {
    return this.isTraining;
  }

  /** Sets train (true) or eval (false) mode on this module and every descendant. */
  train(mode = true): this {
    this.isTraining = mode;
    for (const child of this.ownChildren.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Direct children by local name. */
  children(): ReadonlyMap<string, Module> {
    return this.ownChildren;
  }

  /** Every parameter below this module (optionally of one group), by relative path. */
  namedParameters(group?: ParameterGroup): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.visit('', (prefix, module) => {
      for (const [local, entry] of module.ownParameters) {
        if (group === undefined || entry.group === group) out.set(prefix + local, entry.variable);
      }
    });
    return out;
  }

  parameters(group?: ParameterGroup): tf.Variable[] {
    return [...this.namedParameters(group).values()];
  }

  /** Every buffer below this module, by relative path. */
  namedBuffers(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.visit('', (prefix, module) => {
      for (const [local, variable] of module.ownBuffers) out.set(prefix + local, variable);
    });
    return out;
  }

  /** The number of scalar entries in the parameters (optionally of one group). */
  parameterCount(group?: ParameterGroup): number {
    let count = 0;
    for (const variable of this.namedParameters(group).values()) count += variable.size;
    return count;
  }

  /** Parameters and buffers by relative path. The tensors are the live variables: clone to keep. */
  stateDict(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [path, variable] of this.namedParameters()) out.set(path, variable);
    for (const [path, variable] of this.namedBuffers()) out.set(path, variable);
    return out;
  }

  /**
   * Copies tensors into this module's parameters and buffers. With `strict` (default) every entry must
   * be present and no extra entry may be given. Shapes must match. `source` names the file in errors.
   */
  loadStateDict(state: ReadonlyMap<string, tf.Tensor>, options: { strict?: boolean; source?: string } = {}): void {
    const { strict = true, source = 'state dict' } = options;
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [path, variable] of own) {
      const value = state.get(path);
      if (value === undefined) {
        if (strict) problems.push(`missing tensor '${path}' (shape [${variable.shape}])`);
        continue;
      }
      if (!tf.util.arraysEqual(value.shape, variable.shape)) {
        problems.push(`tensor '${path}' has shape [${value.shape}], expected [${variable.shape}]`);
      }
    }
    if (strict) {
      for (const path of state.keys()) if (!own.has(path)) problems.push(`unexpected tensor '${path}'`);
    }
    if (problems.length > 0) {
      const shown = problems.slice(0, 10).join('; ');
      const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
      throw new UserInputError(`${source}: ${shown}${more}`);
    }
    for (const [path, variable] of own) {
      const value = state.get(path);
      if (value !== undefined) variable.assign(value.dtype === variable.dtype ? value : tf.cast(value, variable.dtype));
    }
  }

  /** Frees every variable below this module. The module must not be used afterwards. */
  dispose(): void {
    for (const child of this.ownChildren.values()) child.dispose();
    for (const entry of this.ownParameters.values()) entry.variable.dispose();
    for (const variable of this.ownBuffers.values()) variable.dispose();
    this.ownParameters.clear();
    this.ownBuffers.clear();
    this.ownChildren.clear();
  }

  private visit(prefix: string, fn: (prefix: string, module: Module) => void): void {
    fn(prefix, this);
    for (const [local, child] of this.ownChildren) child.visit(`${prefix}${local}/`, fn);
  }
}
