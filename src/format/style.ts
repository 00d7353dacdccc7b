/** Terminal styles: colour on a terminal only, never against NO_COLOR; FORCE_COLOR wins. */
export interface Style {
	red(text: string): string;
	green(text: string): string;
	yellow(text: string): string;
	bold(text: string): string;
	dim(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001B[${open}m${text}\u001B[${close}m`;
export const COLOR: Style = {red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39), bold: ansi(1, 22), dim: ansi(2, 22)};
const same = (text: string) => text;
export const PLAIN: Style = {red: same, green: same, yellow: same, bold: same, dim: same};

/** Colour only for a terminal, and never against NO_COLOR; FORCE_COLOR wins. */
export function pickStyle(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Style {
	if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') {
		return COLOR;
	}

	return stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb' ? COLOR : PLAIN;
}
