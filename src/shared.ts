import {readFileSync} from 'node:fs';
import path from 'node:path';
import {KLAYOUT_DIR} from './package-root.js';

/**
 * Values the TypeScript side shares with the Python that runs inside KLayout, from the one file
 * both read (klayout/lyipc_shared.json, shipped with the package and installed with the server).
 */
interface Shared {
	viewerPort: number;
	klivePort: number;
	tokenBytes: number;
	engineModes: string[];
	maxMarkers: number;
	/** Marker items in a whole database, so that the viewer takes it. */
	maxMarkerItems: number;
	pictureSize: {width: number; height: number};
	/** What a remote host needs to run the worker. */
	workerFiles: string[];
	/** What the viewer server installed into KLayout needs. */
	serverFiles: string[];
}

// From src/ (tests) and from dist/ (the package) alike: ../klayout is the package's klayout/.
export const SHARED = JSON.parse(readFileSync(path.join(KLAYOUT_DIR, 'lyipc_shared.json'), 'utf8')) as Shared;
