import type net from 'node:net';
import type {Readable} from 'node:stream';
import {isErrorCode, LyipcError, toLyipcError} from './errors.js';

/**
 * JSON lines, the framing of every channel lyipc speaks: to the KLayout worker (stdio), the
 * warm worker and the Vitest pool (local sockets), the viewer server (TCP). One JSON object per
 * `\n`-terminated line; requests carry an `id`, replies are `{id, ok: true, result}` or
 * `{id, ok: false, error: {code, message, path?, hint?, detail?}}` (klayout/lyipc_errors.py is
 * the Python side). This is the only TypeScript module that frames or parses such lines.
 */

/** An error as the other side sends it. */
export interface WireError {
	code: string;
	message: string;
	path?: string;
	hint?: string;
	detail?: string;
}

export interface Reply {
	id: unknown;
	ok: boolean;
	result?: unknown;
	error?: WireError;
}

/** The line for one message. */
export function toLine(message: object): string {
	return JSON.stringify(message) + '\n';
}

/** A line's object, or undefined when the line is no JSON object (a log line, a stranger). */
export function parseLine(line: string): Record<string, unknown> | undefined {
	if (!line.startsWith('{')) {
		return undefined;
	}

	try {
		const value: unknown = JSON.parse(line);
		return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
	} catch {
		return undefined;
	}
}

export interface ReadLinesOptions {
	/** A peer that sends a longer line than this is cut off: the stream is destroyed. */
	maxLine?: number | undefined;
	/** Sees the unfinished rest after each chunk (an old v1 server's `ACK` ends with no newline). */
	onRest?: (rest: string) => void;
}

/** Calls `onLine` for each `\n`-terminated line `input` sends. */
export function readLines(input: Readable, onLine: (line: string) => void, options: ReadLinesOptions = {}): void {
	const maxLine = options.maxLine ?? Number.POSITIVE_INFINITY;
	let buffer = '';
	input.setEncoding('utf8');
	input.on('data', (chunk: string) => {
		buffer += chunk;
		for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
			const line = buffer.slice(0, newline).replace(/\r$/, '');
			buffer = buffer.slice(newline + 1);
			onLine(line);
		}

		if (buffer.length > maxLine) {
			input.destroy();
		} else if (buffer && options.onRest) {
			options.onRest(buffer);
		}
	});
}

/** A reply's error as a typed LyipcError: its code when lyipc knows it (else INTERNAL naming it), path, hint and detail kept. */
export function errorFromWire(error: WireError | undefined): LyipcError {
	const options = {path: error?.path, hint: error?.hint, detail: error?.detail};
	const code = error?.code;
	if (isErrorCode(code)) {
		return new LyipcError(code, error?.message ?? 'no message', options);
	}

	return new LyipcError('INTERNAL', `${error?.message ?? 'no message'} (code ${code ?? 'missing'})`, options);
}

export interface RequestOptions {
	/** Milliseconds to wait for the reply; 0 or undefined for no limit. */
	timeout?: number | undefined;
	/** The error for a reply that did not come in time; it may also act (stop a worker). */
	onTimeout?: () => Error;
	signal?: AbortSignal | undefined;
	/** The error for an aborted request; it may also act (close the connection). */
	onAbort?: () => Error;
	/** Writes the request's line instead of the channel's writer (to send bytes right after it). */
	write?: (line: string) => void;
	/** Told the request's id as it is sent (to match what the other side says about it before its reply). */
	onSent?: (id: number) => void;
}

interface Pending {
	resolve(value: unknown): void;
	reject(error: Error): void;
	/** Why it fails when the reply carries an error. */
	fromWire(error: WireError | undefined): Error;
	done(): void;
}

export interface RequestChannelOptions {
	/** Sends one line to the other side. */
	write(line: string): void;
	/** Builds the error of a failed reply (default {@link errorFromWire}); `request` is what was asked. */
	fromWire?: (error: WireError | undefined, request: Record<string, unknown>) => Error;
	/** Called as the first request starts waiting and after the last one settled (to ref/unref handles). */
	onBusy?: (busy: boolean) => void;
}

/**
 * The asking side of a JSON-lines channel: numbers requests, waits for the replies in any order
 * with a timeout each, and fails every waiting request at once when the channel closes, so a
 * caller never hangs. Feed it the lines that arrive ({@link receive}) and the close ({@link close}).
 */
export class RequestChannel {
	readonly #options: RequestChannelOptions;
	readonly #pending = new Map<number, Pending>();
	#nextId = 1;
	#closed: Error | undefined;

	constructor(options: RequestChannelOptions) {
		this.#options = options;
	}

	/** Why the channel closed, once it has. */
	get closed(): Error | undefined {
		return this.#closed;
	}

	/** How many requests wait for a reply. */
	get waiting(): number {
		return this.#pending.size;
	}

	/** Sends `message` with a fresh id and resolves with the reply's result (rejects with its error). */
	async request<T = unknown>(message: Record<string, unknown>, options: RequestOptions = {}): Promise<T> {
		if (this.#closed) {
			throw this.#closed;
		}

		if (options.signal?.aborted) {
			throw options.onAbort?.() ?? new LyipcError('ABORTED', 'aborted');
		}

		const id = this.#nextId++;
		const request = {...message, id};
		return new Promise<T>((resolve, reject) => {
			const giveUp = (error: () => Error) => {
				if (this.#pending.has(id)) {
					this.#forget(id);
					reject(error());
				}
			};

			const timeout = options.timeout ?? 0;
			const timer =
				timeout > 0
					? setTimeout(() => {
							giveUp(options.onTimeout ?? (() => new LyipcError('TIMEOUT', `no answer within ${timeout / 1000} s`)));
						}, timeout)
					: undefined;
			const onAbort = () => {
				giveUp(options.onAbort ?? (() => new LyipcError('ABORTED', 'aborted')));
			};

			options.signal?.addEventListener('abort', onAbort, {once: true});
			this.#pending.set(id, {
				resolve: resolve as (value: unknown) => void,
				reject,
				fromWire: error => this.#options.fromWire?.(error, request) ?? errorFromWire(error),
				done() {
					clearTimeout(timer);
					options.signal?.removeEventListener('abort', onAbort);
				},
			});
			if (this.#pending.size === 1) {
				this.#options.onBusy?.(true);
			}

			options.onSent?.(id);
			(options.write ?? this.#options.write)(toLine(request));
		});
	}

	/**
	 * Settles the request a reply line answers. `reply` is undefined for a line that is no JSON
	 * object; `settled` false for a reply that answers no waiting request (another id, or `id:
	 * null`: the other side refused the channel as a whole). The caller decides what those mean.
	 */
	receive(line: string): {reply: Reply | undefined; settled: boolean} {
		const reply = parseLine(line) as Reply | undefined;
		const pending = typeof reply?.id === 'number' ? this.#pending.get(reply.id) : undefined;
		if (!reply || !pending) {
			return {reply, settled: false};
		}

		this.#forget(reply.id as number);
		if (reply.ok) {
			pending.resolve(reply.result);
		} else {
			pending.reject(pending.fromWire(reply.error));
		}

		return {reply, settled: true};
	}

	/** Fails every waiting request with `error`, and every later one. The first reason stays. */
	close(error: Error): void {
		this.#closed ??= error;
		const waiting = [...this.#pending.values()];
		this.#pending.clear();
		for (const pending of waiting) {
			pending.done();
			pending.reject(error);
		}

		if (waiting.length > 0) {
			this.#options.onBusy?.(false);
		}
	}

	#forget(id: number): void {
		this.#pending.get(id)?.done();
		this.#pending.delete(id);
		if (this.#pending.size === 0) {
			this.#options.onBusy?.(false);
		}
	}
}

export interface AnswerLinesOptions {
	maxLine?: number | undefined;
	/** The error sent for a failure that is not a LyipcError (default: INTERNAL, a bug). */
	toError?: (error: unknown) => LyipcError;
}

/**
 * The answering side: every request line on `socket` goes to `handle`, its result or error
 * goes back as a reply line with the request's id, in the order they finish. A line that is
 * no JSON object gets a BAD_REQUEST reply with `id: null`.
 */
export function answerLines(socket: net.Socket, handle: (request: Record<string, unknown>) => Promise<unknown>, options: AnswerLinesOptions = {}): void {
	const toError = options.toError ?? toLyipcError;
	readLines(
		socket,
		line => {
			void (async () => {
				const request = parseLine(line);
				let reply: Reply;
				if (request) {
					try {
						reply = {id: request.id ?? null, ok: true, result: await handle(request)};
					} catch (error) {
						reply = {id: request.id ?? null, ok: false, error: toError(error).toJSON()};
					}
				} else {
					reply = {id: null, ok: false, error: {code: 'BAD_REQUEST', message: 'a request must be a JSON object on one line'}};
				}

				if (!socket.destroyed) {
					socket.write(toLine(reply));
				}
			})();
		},
		{maxLine: options.maxLine},
	);
}
