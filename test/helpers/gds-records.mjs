// A GDSII stream written record by record, for layouts KLayout itself would never write: broken
// units, zero magnifications, names that are not UTF-8. Used by tests and bench/fuzz.

/** One record: 2 bytes length, record type, data type, payload. */
export function record(type, dataType, payload = Buffer.alloc(0)) {
	const head = Buffer.alloc(4);
	head.writeUInt16BE(4 + payload.length, 0);
	head.writeUInt8(type, 2);
	head.writeUInt8(dataType, 3);
	return Buffer.concat([head, payload]);
}

/** GDSII's 8-byte real: sign bit, excess-64 base-16 exponent, 56-bit mantissa. */
export function real8(value) {
	const out = Buffer.alloc(8);
	if (value === 0) {
		return out;
	}

	let mantissa = Math.abs(value);
	let exponent = 64;
	while (mantissa >= 1) {
		mantissa /= 16;
		exponent++;
	}

	while (mantissa < 1 / 16) {
		mantissa *= 16;
		exponent--;
	}

	out.writeUInt8((value < 0 ? 0x80 : 0) | exponent, 0);
	const bits = BigInt(Math.floor(mantissa * 2 ** 56));
	for (let index = 7; index >= 1; index--) {
		out.writeUInt8(Number((bits >> BigInt((7 - index) * 8)) & 0xffn), index);
	}

	return out;
}

function text(name) {
	const bytes = Buffer.isBuffer(name) ? name : Buffer.from(name, 'latin1');
	return bytes.length % 2 ? Buffer.concat([bytes, Buffer.alloc(1)]) : bytes;
}

/** Big-endian 2-byte and 4-byte integers, as GDSII stores them. */
export const int16 = (...values) => Buffer.from(new Int16Array(values).buffer).swap16();
export const int32 = (...values) => Buffer.from(new Int32Array(values).buffer).swap32();
const STAMP = int16(2024, 1, 1, 0, 0, 0, 2024, 1, 1, 0, 0, 0);

/** HEADER, BGNLIB, LIBNAME and UNITS ([user units per dbu, metres per dbu]): a library's start. */
export function libraryHead(units = [0.001, 1e-9]) {
	return Buffer.concat([record(0x00, 0x02, int16(600)), record(0x01, 0x02, STAMP), record(0x02, 0x06, text('LIB')), record(0x03, 0x05, Buffer.concat([real8(units[0]), real8(units[1])]))]);
}

/** BGNSTR and STRNAME: a cell's start. */
export function cellHead(name) {
	return Buffer.concat([record(0x05, 0x02, STAMP), record(0x06, 0x06, text(name))]);
}

export const CELL_END = record(0x07, 0x00);
export const LIBRARY_END = record(0x04, 0x00);

/** A BOUNDARY on layer/0 for the box (x1, y1) .. (x2, y2) in database units. */
export function boxRecords(layer, x1, y1, x2, y2) {
	return Buffer.concat([record(0x08, 0x00), record(0x0d, 0x02, int16(layer)), record(0x0e, 0x02, int16(0)), record(0x10, 0x03, int32(x1, y1, x1, y2, x2, y2, x2, y1, x1, y1)), record(0x11, 0x00)]);
}

/**
 * A library of cells, each with boxes ([layer, x1, y1, x2, y2] in dbu), polygons ({layer, xy:
 * [x, y, ...] closed}) and placements ({cell, x, y, mag, array: {cols, rows, dx, dy}}); the
 * first cell listed is written first. `units` = [user units per dbu,
 * metres per dbu] as the UNITS record holds them.
 */
export function gdsLibrary({units = [0.001, 1e-9], cells}) {
	const parts = [libraryHead(units)];
	for (const cell of cells) {
		parts.push(cellHead(cell.name));
		for (const [layer, x1, y1, x2, y2] of cell.boxes ?? []) {
			parts.push(boxRecords(layer, x1, y1, x2, y2));
		}

		for (const points of cell.polygons ?? []) {
			parts.push(record(0x08, 0x00), record(0x0d, 0x02, int16(points.layer ?? 1)), record(0x0e, 0x02, int16(0)), record(0x10, 0x03, int32(...points.xy)), record(0x11, 0x00));
		}

		for (const placement of cell.placements ?? []) {
			const {array} = placement;
			parts.push(record(array ? 0x0b : 0x0a, 0x00), record(0x12, 0x06, text(placement.cell)), record(0x1a, 0x01, int16(0)));
			if (placement.mag !== undefined) {
				parts.push(record(0x1b, 0x05, real8(placement.mag)));
			}

			const [x, y] = [placement.x ?? 0, placement.y ?? 0];
			if (array) {
				// AREF: columns and rows, then the origin and the far ends of the column and row vectors.
				parts.push(record(0x13, 0x02, int16(array.cols, array.rows)), record(0x10, 0x03, int32(x, y, x + array.cols * array.dx, y, x, y + array.rows * array.dy)));
			} else {
				parts.push(record(0x10, 0x03, int32(x, y)));
			}

			parts.push(record(0x11, 0x00));
		}

		parts.push(CELL_END);
	}

	parts.push(LIBRARY_END);
	return Buffer.concat(parts);
}
