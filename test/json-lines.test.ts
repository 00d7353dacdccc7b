import {PassThrough} from 'node:stream';
import {expect, test} from 'vitest';
import {errorFromWire, parseLine, readLines, RequestChannel} from '../src/json-lines.js';

function channel(): {channel: RequestChannel; sent: Array<Record<string, unknown>>} {
	const sent: Array<Record<string, unknown>> = [];
	return {channel: new RequestChannel({write: line => sent.push(JSON.parse(line) as Record<string, unknown>)}), sent};
}

test('replies settle their own request, in any order; strangers and non-JSON are left to the caller', async () => {
	const {channel: requests, sent} = channel();
	const first = requests.request({op: 'a'});
	const second = requests.request({op: 'b'});
	expect(sent).toEqual([
		{op: 'a', id: 1},
		{op: 'b', id: 2},
	]);
	expect(requests.receive('{"id": 2, "ok": true, "result": "B"}').settled).toBe(true);
	expect(requests.receive('{"id": 7, "ok": true, "result": "?"}')).toEqual({reply: {id: 7, ok: true, result: '?'}, settled: false});
	expect(requests.receive('KLayout says hello').reply).toBeUndefined();
	requests.receive('{"id": 1, "ok": false, "error": {"code": "READ_ERROR", "message": "bad", "path": "a.gds", "hint": "h", "detail": "trace"}}');
	await expect(second).resolves.toBe('B');
	await expect(first).rejects.toMatchObject({code: 'READ_ERROR', message: 'bad', path: 'a.gds', hint: 'h', detail: 'trace'});
	expect(requests.waiting).toBe(0);
});

test('a timeout fails that request only; closing fails every waiting one and every later one', async () => {
	const {channel: requests} = channel();
	const slow = requests.request({op: 'slow'}, {timeout: 20});
	const waiting = requests.request({op: 'wait'});
	await expect(slow).rejects.toMatchObject({code: 'TIMEOUT'});
	expect(requests.waiting).toBe(1);
	requests.close(new Error('gone'));
	await expect(waiting).rejects.toThrow('gone');
	await expect(requests.request({op: 'later'})).rejects.toThrow('gone');
});

test("an abort fails the request with the caller's error; a late reply is ignored", async () => {
	const {channel: requests} = channel();
	const controller = new AbortController();
	const request = requests.request({op: 'x'}, {signal: controller.signal, onAbort: () => new Error('stopped')});
	controller.abort();
	await expect(request).rejects.toThrow('stopped');
	expect(requests.receive('{"id": 1, "ok": true, "result": 1}').settled).toBe(false);
});

test('errors from the other side are typed: an unknown code becomes INTERNAL naming it', () => {
	expect(errorFromWire({code: 'WRITE_ERROR', message: 'full'})).toMatchObject({code: 'WRITE_ERROR', message: 'full'});
	expect(errorFromWire({code: 'LOAD_FAILED', message: 'no'})).toMatchObject({code: 'INTERNAL', message: 'no (code LOAD_FAILED)'});
	expect(errorFromWire(undefined)).toMatchObject({code: 'INTERNAL'});
});

test('lines are split across chunks; a line over the limit cuts the peer off', () => {
	const input = new PassThrough();
	const lines: string[] = [];
	readLines(input, line => lines.push(line), {maxLine: 10});
	input.write('{"a":');
	input.write('1}\r\n{"b":2}\n');
	expect(lines).toEqual(['{"a":1}', '{"b":2}']);
	expect(parseLine(lines[0]!)).toEqual({a: 1});
	expect(parseLine('[1]')).toBeUndefined();
	input.write('x'.repeat(11));
	expect(input.destroyed).toBe(true);
});
