export function record(type: number, dataType: number, payload?: Buffer): Buffer;
export function real8(value: number): Buffer;
export function int16(...values: number[]): Buffer;
export function int32(...values: number[]): Buffer;
export function libraryHead(units?: readonly [number, number]): Buffer;
export function cellHead(name: string | Buffer): Buffer;
export const CELL_END: Buffer;
export const LIBRARY_END: Buffer;
export function boxRecords(layer: number, x1: number, y1: number, x2: number, y2: number): Buffer;
export interface GdsCell {
	readonly name: string | Buffer;
	readonly boxes?: ReadonlyArray<readonly [layer: number, x1: number, y1: number, x2: number, y2: number]>;
	readonly polygons?: ReadonlyArray<{readonly layer?: number; readonly xy: readonly number[]}>;
	readonly placements?: ReadonlyArray<{
		readonly cell: string | Buffer;
		readonly x?: number;
		readonly y?: number;
		readonly mag?: number;
		readonly array?: {readonly cols: number; readonly rows: number; readonly dx: number; readonly dy: number};
	}>;
}
export function gdsLibrary(library: {readonly units?: readonly [number, number]; readonly cells: readonly GdsCell[]}): Buffer;
