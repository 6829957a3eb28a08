export { runCli } from './main.js';
export { buildProgram } from './program.js';
export { processIo, BufferStream, printJson, type CliIo, type OutputStream } from './io.js';
export { Progress, type ProgressOptions, type ProgressFields } from './progress.js';
export { RunReporter, type ReportedEvent } from './reporter.js';
export { NotAvailableError, classifyError, formatError, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
export { readConfigFile, applyOverrides, parseAssignment, setPath, toYaml } from './config-file.js';
export { readSavedArchitecture, type SavedArchitecture, type ArchitectureConfig } from './architecture.js';
export { genotypeText } from './genotype-text.js';
export { formatCount, formatBytes, formatDuration, formatTable } from './format.js';
export { doctorReport, type DoctorReport, type BackendReport } from './commands/doctor.js';
export { listConfigFields, type ConfigField } from './config-reference.js';
export {
  SearchRunConfigSchema,
  TrainRunConfigSchema,
  DataSettingsSchema,
  NetworkSettingsSchema,
  parseSearchRunConfig,
  parseTrainRunConfig,
  type SearchRunConfig,
  type TrainRunConfig,
} from './config.js';
