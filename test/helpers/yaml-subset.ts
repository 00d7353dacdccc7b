/**
 * A reader for the block-style YAML that the project's GitHub workflows are written in, so that a
 * test can check a workflow without a YAML library: mappings, sequences (also of mappings,
 * `- key: value`), plain and quoted scalars, `|` block scalars and comments. Every scalar stays a
 * string (`on` is the key "on", not true). Anything else (flow collections, anchors, tags, tabs,
 * `|-`, folded scalars, `- - item`, a line indented where nothing can start) throws with its line
 * number, so the workflow is never half-read.
 */
export type Yaml = string | null | Yaml[] | {[key: string]: Yaml};

interface Line {
	number: number;
	indent: number;
	text: string;
}

export function parseYamlSubset(source: string): Yaml {
	const raw = source.split('\n');
	let at = 0;

	const fail = (line: number, why: string): never => {
		throw new Error(`YAML line ${line}: ${why}: ${JSON.stringify(raw[line - 1])}`);
	};

	/** The next line that holds something, without its comment; null at the end. */
	const peek = (): Line | null => {
		for (let index = at; index < raw.length; index++) {
			const line = raw[index]!;
			if (/^\s*\t/.test(line)) {
				fail(index + 1, 'a tab in the indentation');
			}

			const text = stripComment(line).trimEnd();
			if (text.trim() !== '') {
				at = index;
				const indent = text.length - text.trimStart().length;
				return {number: index + 1, indent, text: text.trimStart()};
			}
		}

		at = raw.length;
		return null;
	};

	const scalar = (text: string, line: number): string => {
		if (text.startsWith('"')) {
			const match = /^"((?:[^"\\]|\\.)*)"$/.exec(text) ?? fail(line, 'an unclosed double-quoted string');
			return match[1]!.replace(/\\(.)/g, (_, char: string) => ({n: '\n', t: '\t'})[char] ?? char);
		}

		if (text.startsWith("'")) {
			const match = /^'((?:[^']|'')*)'$/.exec(text) ?? fail(line, 'an unclosed single-quoted string');
			return match[1]!.replace(/''/g, "'");
		}

		if (/^[[{&*!|>%@`]/.test(text) || isItem(text)) {
			fail(line, 'YAML this reader does not take (flow collection, anchor, alias, tag, |- or folded scalar, - - item)');
		}

		return text;
	};

	/** The lines of a `|` block scalar after line `at`, deeper than `parent`: their text, dedented. */
	const blockScalar = (parent: number): string => {
		const lines: string[] = [];
		let indent = -1;
		while (at < raw.length) {
			const line = raw[at]!;
			const lineIndent = line.length - line.trimStart().length;
			if (line.trim() !== '' && lineIndent <= parent) {
				break;
			}

			if (line.trim() !== '' && indent < 0) {
				indent = lineIndent;
			}

			lines.push(line.trim() === '' ? '' : line.slice(indent));
			at++;
		}

		while (lines.at(-1) === '') {
			lines.pop();
		}

		return `${lines.join('\n')}\n`;
	};

	/** A key's value: `rest` on its own line, else the deeper (or, for a sequence, same-indent) block below. */
	const value = (rest: string, line: Line): Yaml => {
		if (rest === '|') {
			at++;
			return blockScalar(line.indent);
		}

		if (rest !== '') {
			at++;
			return scalar(rest, line.number);
		}

		at++;
		const next = peek();
		if (next && (next.indent > line.indent || (next.indent === line.indent && isItem(next.text)))) {
			return node(next.indent);
		}

		return null;
	};

	const mapping = (indent: number): {[key: string]: Yaml} => {
		const result: {[key: string]: Yaml} = {};
		for (let line = peek(); line && line.indent === indent && !isItem(line.text); line = peek()) {
			const match = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#][^:]*?)\s*:(?:\s+(.*))?$/.exec(line.text) ?? fail(line.number, 'not a `key: value` line');
			const key = scalar(match[1]!, line.number);
			if (Object.hasOwn(result, key)) {
				fail(line.number, `the key ${key} twice`);
			}

			result[key] = value(match[2] ?? '', line);
		}

		return result;
	};

	const sequence = (indent: number): Yaml[] => {
		const result: Yaml[] = [];
		for (let line = peek(); line && line.indent === indent && isItem(line.text); line = peek()) {
			const content = line.text.slice(1).trimStart();
			if (content === '') {
				at++;
				const next = peek();
				result.push(next && next.indent > indent ? node(next.indent) : null);
			} else if (/^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#][^:]*?)\s*:(\s|$)/.test(content)) {
				// `- key: value`: a mapping whose lines are indented as its first key is.
				const column = indent + (line.text.length - content.length);
				raw[at] = ' '.repeat(column) + content;
				result.push(mapping(column));
			} else {
				at++;
				result.push(scalar(content, line.number));
			}
		}

		return result;
	};

	const node = (indent: number): Yaml => {
		const line = peek();
		if (!line) {
			return null;
		}

		return isItem(line.text) ? sequence(indent) : mapping(indent);
	};

	const first = peek();
	const document = first ? node(first.indent) : null;
	const rest = peek();
	if (rest) {
		fail(rest.number, 'indented where nothing can start');
	}

	return document;
}

function isItem(text: string): boolean {
	return text === '-' || text.startsWith('- ');
}

/** The line without a `#` comment (a `#` at the start or after a space, outside quotes). */
function stripComment(line: string): string {
	let quote = '';
	for (let index = 0; index < line.length; index++) {
		const char = line[index]!;
		if (quote) {
			if (char === '\\' && quote === '"') {
				index++;
			} else if (char === quote) {
				quote = '';
			}
		} else if ((char === '"' || char === "'") && (index === 0 || /[\s:[{,-]/.test(line[index - 1]!))) {
			quote = char;
		} else if (char === '#' && (index === 0 || /\s/.test(line[index - 1]!))) {
			return line.slice(0, index);
		}
	}

	return line;
}
