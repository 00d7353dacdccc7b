export {compareLayouts, type CompareOptions} from './xor/compare.js';
export {
	RESULT_FORMAT_VERSION,
	type CompareResult,
	type CompareErrorOutput,
	type LayerResult,
	type LayerStatus,
	type TopCellPair,
	type InputSummary,
	type UsedMode,
} from './xor/result.js';
export {
	DEFAULT_MAX_MARKERS,
	DEFAULT_TIMEOUT_MS,
	ENGINE_MODES,
	parseLayerList,
	type EngineMode,
	type LayerSpec,
	type XorOptions,
} from './xor/options.js';
export type {ArtifactOptions} from './xor/artifacts.js';
export {KLayoutWorker, WORKER_SCRIPT, type WorkerStartOptions, type RequestOptions} from './engine/worker.js';
export {findKLayout, type KLayoutLocation, type FindKLayoutOptions} from './engine/find-klayout.js';
export {MIN_KLAYOUT_VERSION} from './engine/klayout-version.js';
export {ViewerClient, resolveTarget, DEFAULT_VIEWER_PORT, type ViewerTarget, type ViewerClientOptions} from './viewer/client.js';
export {showDiffInViewer, type ShowDiffOptions} from './viewer/show-diff.js';
export {installServer, uninstallServer, klayoutHome, type InstallOptions} from './viewer/install.js';
export {LyipcError, isLyipcError, type ErrorCode} from './errors.js';
export {LYIPC_VERSION} from './version.js';
