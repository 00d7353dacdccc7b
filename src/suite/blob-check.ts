import {type ErrorCode, isErrorCode, LyipcError} from '../errors.js';
import {LAYOUT_EXTENSION} from '../layout-files.js';
import {ENGINE_MODES, type EngineMode} from '../xor/options.js';
import type {Pictures} from '../xor/pictures.js';
import {type CompareResult, type InputSummary, type LayerResult, RESULT_FORMAT_VERSION, type TopCellPair, type UsedMode} from '../xor/result.js';
import {type PairOutcome, SUITE_FORMAT_VERSION, type SuiteResult} from './run-suite.js';
import type {Shard} from './shard.js';

/**
 * A blob is input from elsewhere (a CI shard, a fork's pull request): its result is checked
 * field by field against the SuiteResult types before anything reads it, and rebuilt from the
 * known fields only. A file a blob names must be a relative path under its files/ folder with
 * the extension its field calls for (a picture .png, never .html a report would link to).
 */

/** Checks one value: returns it when it is of the type, else throws a FieldError naming where it is. */
type Rule<T> = (value: unknown, at: string) => T;
/** The rule of each field of T; an optional field's rule may answer undefined (the field is then left out). */
type Fields<T> = {[K in keyof T]-?: Record<never, never> extends Pick<T, K> ? Rule<T[K] | undefined> : Rule<T[K]>};

class FieldError extends Error {
	constructor(
		readonly at: string,
		readonly expected: string,
		readonly got: unknown,
	) {
		super(`${at}: expected ${expected}`);
	}
}

function rule<T>(expected: string, test: (value: unknown) => boolean): Rule<T> {
	return (value, at) => {
		if (!test(value)) {
			throw new FieldError(at, expected, value);
		}

		return value as T;
	};
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
// Tab, newline and carriage return may stand in a message; other control characters (a terminal's escapes) may not.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** Half a UTF-16 pair: no character at all (encodeURI throws on it). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isText = (value: unknown): value is string => typeof value === 'string' && !CONTROL.test(value) && !LONE_SURROGATE.test(value);

const whole = rule<number>('a whole number >= 0', value => Number.isSafeInteger(value) && (value as number) >= 0);
const positiveWhole = rule<number>('a whole number >= 1', value => Number.isSafeInteger(value) && (value as number) >= 1);
const amount = rule<number>('a number >= 0', value => isNumber(value) && value >= 0);
const positive = rule<number>('a number > 0', value => isNumber(value) && value > 0);
const flag = rule<boolean>('true or false', value => typeof value === 'boolean');
const text = rule<string>('text without control characters', isText);
const box = rule<[number, number, number, number]>('four numbers [left, bottom, right, top]', value => Array.isArray(value) && value.length === 4 && value.every(isNumber));

function exactly<T extends string | number>(wanted: T): Rule<T> {
	return rule(JSON.stringify(wanted), value => value === wanted);
}

function oneOf<T extends string>(values: readonly T[]): Rule<T> {
	return rule(`one of ${values.map(value => JSON.stringify(value)).join(', ')}`, value => values.includes(value as T));
}

function nullable<T>(inner: Rule<T>): Rule<T | null> {
	return (value, at) => {
		if (value === null) {
			return null;
		}

		try {
			return inner(value, at);
		} catch (error) {
			throw error instanceof FieldError && error.at === at ? new FieldError(at, `${error.expected} or null`, value) : error;
		}
	};
}

function optional<T>(inner: Rule<T>): Rule<T | undefined> {
	return (value, at) => (value === undefined ? undefined : inner(value, at));
}

/** A field that results written by an earlier lyipc lack: `absent` stands in for it. */
function added<T>(inner: Rule<T>, absent: T): Rule<T> {
	return (value, at) => (value === undefined ? absent : inner(value, at));
}

function list<T>(item: Rule<T>): Rule<T[]> {
	return (value, at) => {
		if (!Array.isArray(value)) {
			throw new FieldError(at, 'a list', value);
		}

		return value.map((each, index) => item(each, `${at}[${index}]`));
	};
}

function shape<T>(fields: Fields<T>): Rule<T> {
	return (value, at) => {
		if (typeof value !== 'object' || value === null || Array.isArray(value)) {
			throw new FieldError(at, 'an object', value);
		}

		const checked: Record<string, unknown> = {};
		for (const [key, check] of Object.entries(fields) as Array<[string, Rule<unknown>]>) {
			const field = check(Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined, at ? `${at}.${key}` : key);
			if (field !== undefined) {
				checked[key] = field;
			}
		}

		return checked as T;
	};
}

/** "a/b.gds": relative, forward or back slashes, no empty, "." or ".." part, on one line. */
function isRelativePath(value: unknown): value is string {
	return isText(value) && !/[\t\n\r]/.test(value) && value.split(/[\\/]/).every(part => part !== '' && part !== '.' && part !== '..');
}

/** A file the blob holds: "files/...", ending as its field requires. */
function blobFile(extension: RegExp, what: string): Rule<string> {
	return rule(`a path under files/ ending in ${what} (no ".." part, not absolute)`, value => isRelativePath(value) && value.startsWith('files/') && extension.test(value));
}

const picture = blobFile(/\.png$/i, '.png');
const USED_MODES: readonly UsedMode[] = [...ENGINE_MODES.filter((mode): mode is Exclude<EngineMode, 'auto'> => mode !== 'auto'), 'structural', 'windowed'];

const layerResult = shape<LayerResult>({
	layer: nullable(whole),
	datatype: nullable(whole),
	key: text,
	name: nullable(text),
	status: oneOf(['same', 'different', 'only-in-a', 'only-in-b']),
	countA: whole,
	countB: whole,
	xorCount: whole,
	zeroAreaCount: whole,
	xorArea: amount,
	bbox: nullable(box),
	sliverCount: whole,
	sliverArea: amount,
	maxWidth: added(nullable(amount), null),
	maxWidthExact: added(nullable(flag), null),
	sliversOnly: added(flag, false),
	mode: oneOf(USED_MODES),
	modeReason: text,
	windows: nullable(whole),
	fallback: nullable(text),
	tileSize: nullable(positive),
	markers: whole,
	markersOmitted: whole,
	ms: amount,
});

const inputSummary = shape<InputSummary>({
	path: text,
	size: whole,
	format: oneOf(['gds', 'oasis']),
	gzip: flag,
	dbu: nullable(positive),
	topCells: nullable(list(text)),
	readNote: added(nullable(text), null),
});

const compareResult = shape<CompareResult>({
	formatVersion: exactly(RESULT_FORMAT_VERSION),
	status: oneOf(['identical', 'different']),
	identical: flag,
	differentLayers: whole,
	a: inputSummary,
	b: inputSummary,
	dbu: nullable(positive),
	fastPath: nullable(oneOf(['byte-identical'])),
	mode: oneOf(ENGINE_MODES),
	modesUsed: list(oneOf(USED_MODES)),
	tolerance: amount,
	topCells: list(
		shape<TopCellPair>({
			a: nullable(text),
			b: nullable(text),
			status: oneOf(['compared', 'only-in-a', 'only-in-b']),
			unpaired: optional(shape<NonNullable<TopCellPair['unpaired']>>({a: list(text), b: list(text)})),
		}),
	),
	layers: list(layerResult),
	artifacts: shape<CompareResult['artifacts']>({
		xor: nullable(blobFile(LAYOUT_EXTENSION, '.gds, .oas or another layout extension')),
		rdb: nullable(blobFile(/\.lyrdb$/i, '.lyrdb')),
	}),
	timings: shape<CompareResult['timings']>({totalMs: amount, startMs: amount, readMs: amount, structureMs: amount, xorMs: amount, writeMs: amount}),
	klayout: nullable(shape<NonNullable<CompareResult['klayout']>>({path: text, version: text})),
});

const pictures = shape<Pictures>({
	a: nullable(picture),
	b: nullable(picture),
	xor: nullable(picture),
	overview: nullable(picture),
	closeups: list(picture),
	boxes: list(box),
	groups: whole,
	size: shape<Pictures['size']>({width: positiveWhole, height: positiveWhole}),
	scale: positiveWhole,
	error: nullable(text),
});

const pairError = shape<NonNullable<PairOutcome['error']>>({
	code: rule<ErrorCode>("one of lyipc's error codes (e.g. READ_ERROR)", isErrorCode),
	message: text,
	path: optional(text),
	hint: optional(text),
	detail: optional(text),
});

const pairOutcome = shape<PairOutcome>({
	path: rule('a relative path (no ".." part, not absolute)', isRelativePath),
	status: oneOf(['identical', 'different', 'missing-reference', 'missing-output', 'error']),
	reference: nullable(text),
	output: nullable(text),
	result: nullable(compareResult),
	error: nullable(pairError),
	pictures: nullable(pictures),
	ms: amount,
	queueMs: amount,
	attempts: whole,
});

const shard: Rule<Shard> = (value, at) => {
	const checked = shape<Shard>({index: positiveWhole, count: positiveWhole})(value, at);
	if (checked.index > checked.count) {
		throw new FieldError(`${at}.index`, `a whole number from 1 to ${at}.count (${checked.count})`, checked.index);
	}

	return checked;
};

const suiteResult = shape<SuiteResult>({
	formatVersion: exactly(SUITE_FORMAT_VERSION),
	status: oneOf(['identical', 'different', 'error']),
	referenceDir: text,
	outputDir: text,
	outDir: text,
	counts: shape<SuiteResult['counts']>({total: whole, identical: whole, different: whole, missingReference: whole, missingOutput: whole, error: whole}),
	pairs: list(pairOutcome),
	hint: nullable(text),
	workers: shape<SuiteResult['workers']>({size: whole, started: whole, warm: flag}),
	// A blob of an older version has no startupMs: none is known.
	timings: shape<SuiteResult['timings']>({totalMs: amount, startupMs: (value, at) => (value === undefined ? 0 : amount(value, at))}),
	shard: nullable(shard),
});

/** A value as an error message shows it: JSON (control characters escaped), cut short. */
export function shown(value: unknown): string {
	if (value === undefined) {
		return 'nothing';
	}

	const json = JSON.stringify(value);
	return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * The blob's result when every field is of its type, rebuilt from the known fields; else a
 * BAD_BLOB error naming the blob `dir` (as the caller gave it) and the field, e.g.
 * `blob-2: pairs[3].result.layers[0].countA: expected a whole number >= 0, got "<script>"`.
 */
export function checkBlobResult(value: unknown, dir: string, file: string): SuiteResult {
	try {
		return suiteResult(value, '');
	} catch (error) {
		if (!(error instanceof FieldError)) {
			throw error;
		}

		throw new LyipcError('BAD_BLOB', `${dir}: ${error.at || 'result'}: expected ${error.expected}, got ${shown(error.got)}`, {path: file});
	}
}
