export * from './types.js';
export { openDataset, DatasetSpecSchema, type DatasetSpec } from './spec.js';
export { openCityscapes, CityscapesSpecSchema, type CityscapesSpec } from './cityscapes.js';
export { openVoc, VocSpecSchema, type VocSpec } from './voc.js';
export { openAde20k, Ade20kSpecSchema, type Ade20kSpec } from './ade20k.js';
export { openFolder, FolderSpecSchema, ClassesFileSchema, FOLDER_LAYOUT, type FolderSpec, type ClassesFile } from './folder.js';
export {
  SyntheticDataset,
  SyntheticSpecSchema,
  SHAPE_KINDS,
  insideShape,
  openSynthetic,
  type SyntheticSpec,
  type SyntheticShape,
  type ShapeGeometry,
  type ShapeKind,
} from './synthetic.js';
export { FileDataset, type FileItem } from './file-dataset.js';
export {
  CITYSCAPES_CLASSES,
  CITYSCAPES_PALETTE,
  CITYSCAPES_ID_TO_TRAIN_ID,
  VOC_CLASSES,
  VOC_PALETTE,
  ADE20K_CLASSES,
  ADE20K_PALETTE,
  vocColormap,
  parseObjectInfoCsv,
} from './classes.js';
export { paletteForClasses } from './palette.js';
export {
  decodeImage,
  decodeLabel,
  imageDimensions,
  inspectImage,
  CorruptImageError,
  type FileInfo,
  type LabelKind,
  UNKNOWN_COLOR,
  type RgbImage,
  type RawLabel,
  type DecodeLabelOptions,
} from './decode.js';
export { encodeIndexedPng, encodeRgbPng, decodeSingleChannelPng, readPngHeader, readPngPalette, type PngHeader } from './png.js';
export {
  TransformSchema,
  IMAGENET_MEAN,
  IMAGENET_STD,
  applyTransform,
  planTransform,
  transformedSizeRange,
  resample,
  sourceRegion,
  type SourceFrame,
  type TransformConfig,
  type ParsedTransform,
  type TransformParams,
  type TransformedSample,
} from './transforms.js';
export { searchSplit, type SearchSplit } from './split.js';
export { batches, BatchStream, type Batch, type BatchOptions, type BatchEvent } from './batcher.js';
export { datasetBatchSource, type DatasetBatchSource, type DatasetSourceOptions } from './batch-source.js';
export { mixSeed } from './seed.js';
export { printableFileName, sortedEntries } from './fs-util.js';
