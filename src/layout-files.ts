/** The one place that knows which file names are layouts: GDSII and OASIS, gzipped or not. */
export const LAYOUT_EXTENSIONS = ['gds', 'gds2', 'gdsii', 'oas'] as const;

/** Matches a layout file name's extension, ".gds" or ".oas.gz" (any case). */
export const LAYOUT_EXTENSION = new RegExp(`\\.(${LAYOUT_EXTENSIONS.join('|')})(\\.gz)?$`, 'i');

/** Whether a file name is a layout's. */
export function isLayoutName(file: string): boolean {
	return LAYOUT_EXTENSION.test(file);
}

/** The layout extension of a file name (".oas.gz"), or "". */
export function layoutExtension(file: string): string {
	return LAYOUT_EXTENSION.exec(file)?.[0] ?? '';
}

/** fast-glob patterns of every layout under a folder. */
export const LAYOUT_GLOBS = [`**/*.{${LAYOUT_EXTENSIONS.join(',')}}`, `**/*.{${LAYOUT_EXTENSIONS.join(',')}}.gz`];
