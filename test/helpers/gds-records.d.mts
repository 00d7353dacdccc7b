export function record(type: number, dataType: number, payload?: Buffer): Buffer;
export function real8(value: number): Buffer;
export interface GdsCell {
	name: string | Buffer;
	boxes?: Array<[layer: number, x1: number, y1: number, x2: number, y2: number]>;
	placements?: Array<{cell: string; x?: number; y?: number; mag?: number}>;
}
export function gdsLibrary(library: {units?: [number, number]; cells: GdsCell[]}): Buffer;
