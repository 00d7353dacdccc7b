/** Words and numbers as lyipc writes them for people. */

/** 1234567 -> "1,234,567". */
export function count(n: number): string {
	return n.toLocaleString('en-US');
}

/** "1 layer", "3 layers", "1,200 windows". */
export function plural(n: number, word: string): string {
	return `${count(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** "differs" for one, "differ" for several: "1 layer differs", "2 layers differ". */
export function differs(n: number): string {
	return n === 1 ? 'differs' : 'differ';
}

/** A path as a POSIX shell word, quoted only when it needs to be. */
export function shellWord(file: string): string {
	return /^[\w@%+=:,./-]+$/.test(file) ? file : `'${file.replaceAll("'", "'\\''")}'`;
}

/**
 * Where a layer's differences are: their bounding box [left, bottom, right, top] in µm, as every
 * report writes it (the pictures' footer too): "x 20 .. 22, y 20 .. 23".
 */
export function boxText(box: readonly number[] | null): string {
	if (!box) {
		return '';
	}

	// Only digits come out, whatever a result from elsewhere (a merged blob) holds.
	const n = (value: number) => (typeof value === 'number' && Number.isFinite(value) ? String(Number(value.toFixed(4))) : '?');
	return `x ${n(box[0]!)} .. ${n(box[2]!)}, y ${n(box[1]!)} .. ${n(box[3]!)}`;
}

/** A length in µm as people read it: "2 nm" below 1 µm, else "1.5 µm". */
export function length(um: number): string {
	return um < 1 ? `${Number((um * 1000).toPrecision(4))} nm` : `${Number(um.toPrecision(4))} µm`;
}

/**
 * The `--tolerance` (µm) under which differences no wider than `widthUm` are slivers: a
 * difference is a sliver when shrinking it by half the tolerance, rounded down to whole
 * database units, leaves nothing; one dbu more than the width keeps clear of that rounding.
 */
export function sliverTolerance(widthUm: number, dbu: number): number {
	const width = Math.round(widthUm / dbu);
	return Number(((width + (width % 2) + 1) * dbu).toPrecision(6));
}

/** What to say of a layer whose differences are all slivers: "slivers only, widest 2 nm (--tolerance 0.003 passes them)". */
export function sliverNote(layer: {sliversOnly?: boolean; maxWidth?: number | null}, dbu: number | null): string | null {
	if (!layer.sliversOnly || layer.maxWidth === undefined || layer.maxWidth === null || !dbu) {
		return null;
	}

	return `slivers only, widest ${length(layer.maxWidth)} (--tolerance ${sliverTolerance(layer.maxWidth, dbu)} passes them)`;
}
