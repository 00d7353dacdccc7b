import {DEFAULT_MAX_MARKERS, MAX_MARKER_ITEMS} from '../xor/options.js';

export const DIFF_HELP = `Usage: lyipc-diff [options] A B
       lyipc-diff [options] REF_DIR RUN_DIR
       lyipc-diff merge-reports BLOB_DIR... [--reporter NAME[=PATH]]... [--json] [--out-dir DIR]

Compares two layouts (GDSII or OASIS, optionally gzipped) with KLayout's geometric XOR,
prints a per-layer summary and, when they differ, writes an XOR layout and a KLayout
marker database. Given two directories, compares every layout of the reference tree with
the file at the same relative path in the run tree, on a pool of KLayout workers.

Exit codes: 0 no differences, 1 differences (or, for directories, a file on one side
only), 2 could not compare (for directories: any pair).

Options:
  --json               print the result object (docs/result-format.md) alone on stdout
  --tolerance UM       differences no wider than UM µm are slivers, reported apart (default 0)
  --layers LIST        compare only these layers: 1/0,2/0 (a bare 5 means every 5/x)
  --ignore-layers LIST leave these layers out
  --top-a NAME         cell of A to compare (default: the top cell; several: paired by name)
  --top-b NAME         cell of B to compare (default: same name as --top-a, or B's top cell)
  --mode MODE          auto (default: per layer, and layers that KLayout's LayoutDiff
                       proves unchanged skip the XOR), deep, flat or tiled
  --structure WHEN     auto mode: run the structural diff first auto (default: when it can
                       pay), always, or never (a full XOR of every layer)
  --threads N          threads for deep and tiled mode (default: number of CPUs)
  --tile-size UM       tile edge for tiled mode (default: chosen from the data)
  --strict-read        refuse a file whose context meta data this KLayout cannot read (GDS
                       written by KLayout 0.29 or later, read by 0.28): exit 2. By default
                       it is compared without its context cell (PCell and library links,
                       meta data; no geometry), and the result says so
  --timeout SEC        stop KLayout after SEC seconds (default 1800, 0 = no limit)
  --klayout PATH       KLayout executable (default: $KLAYOUT, PATH, usual install places)
  --no-warm-worker     start a KLayout for this call only (default: a warm KLayout worker
                       kept for a few idle minutes answers repeated calls without KLayout's
                       ~1 s start-up, directories too unless --workers is given; off under
                       CI; LYIPC_WARM_WORKER=0|1 sets the default)
  --out-dir DIR        folder for the XOR layout and marker database
                       (default: a new folder under the OS temp dir)
  --out FILE           XOR layout path (.gds, .oas, optionally .gz)
  --rdb FILE           marker database path (default: beside the XOR layout, .lyrdb)
  --max-markers N      marker items per layer (default ${DEFAULT_MAX_MARKERS}, ${MAX_MARKER_ITEMS} in all; the rest are counted)
  --view               show differences in the KLayout viewer (lyipc server); exit 2 if none answers
  --no-view            never try the viewer (default: try quietly, not under CI=true)
  --target HOST[:PORT] the viewer (default: $LYIPC_TARGET, else 127.0.0.1:$LYIPC_PORT or 11078)
  -q, --quiet          print nothing but errors; the exit code tells (directories: the
                       failing pairs and the counts)
  -v, --verbose        also say how the comparison was done: the engine per layer and why

Slurm (KLayout workers as tasks on the cluster; paths as given, the filesystem is shared):
  --slurm              start the workers with srun: job steps of the current allocation, or
                       allocations of their own; a pair whose worker is lost is tried once more
  --slurm-args=ARGS    srun options for them, e.g. --slurm-args="--partition=short --time=30"
                       (LYIPC_SLURM_KLAYOUT: the nodes' KLayout, default klayout on their PATH)

Remote (KLayout on another host, over ssh; rsync needed on both sides):
  --remote [USER@]HOST[:DIR]  send A and B to a private temp folder on HOST (under DIR), compare
                       there with its KLayout, bring the XOR layout and markers back
  --remote-paths       A and B are paths on HOST already: nothing is sent
  two directories: --remote HOST1,HOST2,...  spread the pairs over the hosts (--workers each)

Directories:
  --include GLOB       compare the files matching GLOB (fast-glob syntax, relative to each
                       tree, repeatable; default: every .gds/.gds2/.gdsii/.oas file,
                       gzipped or not)
  --exclude GLOB       leave the files matching GLOB out (repeatable)
  --workers N          KLayout workers run at once (default: one per CPU core)
  --reporter NAME[=PATH]  console (default), json, junit, markdown or html, to PATH or stdout
                       (html: DIR/index.html); repeatable, one report on stdout at most;
                       --json = --reporter json. Links in reports are relative to them.
                       blob=DIR keeps a shard's results, pictures included, for
                       merge-reports, which makes one report of every shard's blob
  --out-dir DIR        the artifacts and pictures mirror the relative paths under DIR
                       (default: lyipc-report/ here, emptied by each run, like
                       playwright-report/); --view opens the first differing pair.
                       No output may lie in either tree or hold one: exit 2
  --picture-size WxH   size pictures are shown at in the reports (default 480x360; drawn
                       at twice that, so a click shows them sharp)
  --closeups N         XOR close-ups per failing pair beyond the first (default 3)
  --picture-budget S   seconds one pair's pictures may take (default 30); over it, or over
                       1 GB, its report says "pictures skipped" and the run goes on
  -u, --update         accept the outputs: copy each over its reference where they differ
                       or the reference is missing, and list what changed
  --prune              with --update: delete references whose output is gone
  --shard I/N          compare shard I of N only (a CI matrix: split by path, balanced by
                       the references' sizes); --reporter blob=DIR keeps its results
  --config FILE        shared defaults from FILE (default: the nearest lyipc.config.json or
                       package.json "lyipc" key, from here up); the command line wins
  --no-config          ignore config files
  -h, --help           show this help
  -V, --version        show the version

Environment: KLAYOUT (KLayout executable), NO_COLOR / FORCE_COLOR, LYIPC_TARGET / LYIPC_PORT
(the viewer; the old LYIPCTARGET=user@host too), LYIPC_TOKEN (a viewer on another machine),
LYIPC_SSH / LYIPC_RSYNC / LYIPC_REMOTE_KLAYOUT (--remote: the ssh and rsync commands, KLayout there).
`;
