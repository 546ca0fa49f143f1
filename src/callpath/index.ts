/** Call paths: normalization, merging, patterns, closest-path ranking, readable stacks. Pure (no Node/Jest imports). */
export { normalizeName, stripCppParameters, type NameOptions } from './names';
export { normalizeFrames, callPathOf, DEFAULT_NORMALIZE, type NormalizeOptions, type NamedFrame } from './normalize';
export { mergeCallPaths, joinCallPath, formatMergedCallPath, parseCallPathLine, CALL_PATH_SEPARATOR, type MergedCallPath } from './merge';
export { CallPathPattern, type PatternToken, type FrameName } from './pattern';
export { splitCallPath, stripTemplateArgs } from './split';
export { alignPattern, rankClosestPaths, alignmentDiffLines, type Alignment, type AlignmentStep, type RankedPath } from './closest';
export { formatStack, formatFrame, frameLocation, displayPath, mergeStacks, type StackFormatOptions, type MergedStack } from './stack-format';
