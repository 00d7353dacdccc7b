// The report paths' results per path and source: how many pairs passed, failed or went over a
// limit, their time, and the slowest pair and the largest memory of each path.
const STATUSES = ['ok', 'failed', 'over time', 'over memory'];

export function pathTally() {
	const rows = new Map();
	const problems = [];

	const row = (name, source) => {
		const key = `${name}\t${source}`;
		if (!rows.has(key)) {
			rows.set(key, {
				name,
				source,
				pairs: 0,
				counts: Object.fromEntries(STATUSES.map(status => [status, 0])),
				couldNotCompare: 0,
				picturesSkipped: 0,
				ms: 0,
				picturesMs: 0,
				slowest: null,
				largest: null,
			});
		}

		return rows.get(key);
	};

	const add = (name, record, result) => {
		for (const s of [row(name, record.source), row(name, 'all')]) {
			s.pairs++;
			s.counts[result.status]++;
			s.couldNotCompare += result.status === 'ok' && result.verdict === 'error' ? 1 : 0;
			s.picturesSkipped += result.picturesSkipped ? 1 : 0;
			s.ms += result.ms;
			s.picturesMs += result.picturesMs ?? 0;
			const pair = {id: record.id, name: record.bPath, status: result.status, ms: result.ms, mb: result.peakMb, picturesMs: result.picturesMs, chunk: result.chunk};
			if (!s.slowest || result.ms > s.slowest.ms) {
				s.slowest = pair;
			}

			if (!s.largest || result.peakMb > s.largest.mb) {
				s.largest = pair;
			}
		}

		if (result.status !== 'ok') {
			problems.push(`${name} ${record.id} (${record.bPath}): ${result.status}: ${result.reason}`);
		}
	};

	return {
		problems,
		/** A pair's record: each path in `record.paths`, and `record.viewer` for a pair of the viewer's sample. */
		add(record) {
			for (const [name, result] of Object.entries(record.paths ?? {})) {
				add(name, record, result);
			}

			if (record.viewer) {
				add('viewer', record, record.viewer);
			}

			// The git driver on a sample of a batch run.
			if (record.git) {
				add('git', record, record.git);
			}
		},
		lines() {
			const seconds = ms => (ms / 1000).toFixed(1);
			const pair = p => `${p.id} (${p.name})${p.status === 'ok' ? '' : `, ${p.status}`}`;
			// In a batch run the peak is the largest process of the pair's chunk: a bound for each of its pairs.
			const peakOf = p => (p.chunk ? `chunk ${p.chunk}, e.g. ${pair(p)}` : pair(p));
			const out = [
				'| path | source | pairs | ok | of which could not compare | failed | over time | over memory | pictures skipped | total s | pictures s | slowest pair | its s | largest peak MB | its pair |',
				'|' + ' --- |'.repeat(15),
			];
			const sorted = [...rows.values()].sort((x, y) => x.name.localeCompare(y.name) || (x.source === 'all') - (y.source === 'all'));
			for (const s of sorted) {
				out.push(
					`| ${[
						s.name,
						s.source,
						s.pairs,
						s.counts.ok,
						s.couldNotCompare,
						s.counts.failed,
						s.counts['over time'],
						s.counts['over memory'],
						s.picturesSkipped,
						seconds(s.ms),
						s.name === 'pictures' ? seconds(s.picturesMs) : '-',
						pair(s.slowest),
						seconds(s.slowest.ms),
						s.largest.mb,
						peakOf(s.largest),
					].join(' | ')} |`,
				);
			}

			return out;
		},
	};
}
