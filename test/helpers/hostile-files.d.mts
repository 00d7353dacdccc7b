export function overlappingBoxes(file: string, count: number, gzip?: boolean): Promise<void>;
export function squareGrid(file: string, n: number, gzip?: boolean): Promise<void>;
export function gzippedZeros(file: string, bytes: number): Promise<void>;
export function markerDatabase(file: string, items: number, gzip?: boolean): Promise<void>;
export function layerProperties(file: string, entries: number, gzip?: boolean): Promise<void>;
export function fifo(file: string): string;
