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
	STRUCTURE_CHOICES,
	parseLayerList,
	type EngineMode,
	type StructureChoice,
	type LayerSpec,
	type XorOptions,
} from './xor/options.js';
export type {ArtifactOptions} from './xor/artifacts.js';
export {KLayoutWorker, WORKER_SCRIPT, type WorkerStartOptions, type RequestOptions} from './engine/worker.js';
export {WorkerPool, type WorkerPoolOptions} from './engine/pool.js';
export {
	compareDirectories,
	SUITE_FORMAT_VERSION,
	type SuiteOptions,
	type SuiteResult,
	type SuiteEvent,
	type SuiteCounts,
	type PairOutcome,
	type PairStatus,
} from './suite/run-suite.js';
export {findPairs, DEFAULT_INCLUDE, type LayoutPair, type PairFilter} from './suite/pairs.js';
export {acceptOutputs, type ReferenceChange} from './suite/update-references.js';
export {findKLayout, type KLayoutLocation, type FindKLayoutOptions} from './engine/find-klayout.js';
export {MIN_KLAYOUT_VERSION} from './engine/klayout-version.js';
export {
	ViewerClient,
	viewerCodeOf,
	ViewerError,
	resolveTarget,
	isLoopbackHost,
	DEFAULT_VIEWER_PORT,
	type ViewerTarget,
	type ViewerClientOptions,
} from './viewer/client.js';
export {showDiffInViewer, type ShowDiffOptions, type ShownDiff} from './viewer/show-diff.js';
export {startViewer, type StartViewerOptions} from './viewer/start-viewer.js';
export {watchAndReload} from './viewer/watch.js';
export {installServer, uninstallServer, klayoutHome, newToken, type InstallOptions, type ServerSettings} from './viewer/install.js';
export {LyipcError, isLyipcError, type ErrorCode} from './errors.js';
export {LYIPC_VERSION} from './version.js';
export {compareOnSlurm, type SlurmCompareOptions} from './slurm/compare-slurm.js';
export {compareRemote, type RemoteCompareOptions} from './remote/compare-remote.js';
export {runRemoteJob, type RemoteJobOptions, type RemoteJobResult} from './remote/job.js';
export {findConfig, loadConfigFile, type LyipcConfig, type LoadedConfig} from './config.js';
export {gitSetup, type GitSetupResult} from './git/git-setup.js';
