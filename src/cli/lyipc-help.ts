export const LYIPC_HELP = `Usage: lyipc <command> [options]

Drive the lyipc server in a running KLayout (docs/protocol.md).

Commands:
  load FILE [--new | --add]   show FILE: replace the current view's layout (default), in a new
                              view, or added to the current view as another cellview; a viewer
                              that cannot read FILE (another machine, a container) gets its bytes
  reload [FILE]               reload in place, keeping the viewbox and layers: the current view,
                              or wherever FILE is shown (a viewer elsewhere gets its new bytes)
  status [--json]             the views, their files, cells, viewboxes, layers, marker databases
  screenshot OUT.png          a picture of the current view [--width W] [--height H] (800 x 600);
                              --window: the whole KLayout window as it is, docks included
  ping                        is a viewer there?
  quit [--force]              end the viewer's KLayout (refused while layouts have unsaved
                              changes, unless --force)
  watch FILES...              show FILES, then reload each in place whenever it is rewritten,
                              once the write is complete; Ctrl+C stops
  animate FRAMES...           play layouts one after the other in one view, keeping the viewbox
                              [--interval SEC] (default 1) [--loop: until Ctrl+C]
  viewer [FILES...]           start KLayout with the server running (nothing installed), showing
                              FILES; a viewer already answering at the port gets FILES instead
  server install              install the server into KLayout (a salt package in
                              $KLAYOUT_HOME/salt, default ~/.klayout; again = upgrade, keeping
                              settings not given); it starts with KLayout; --uninstall removes it
  job --remote HOST [--get PATTERN]... [--show] -- COMMAND...
                              send this folder to a temp folder on HOST (rsync over ssh), run
                              COMMAND there, bring back the files matching each PATTERN (rsync
                              globs, e.g. 'out/**.gds'), --show: open the layouts among them in
                              the viewer; exit code: COMMAND's
  git-setup                   make 'git diff' on GDS/OASIS files print the XOR summary: a diff
                              driver in this repository's git config and .gitattributes
                              [--global: for every repository] [--uninstall]

Options:
  --target HOST[:PORT]        the viewer (default: $LYIPC_TARGET, else the host of the old
                              $LYIPCTARGET=user@host, else 127.0.0.1; port $LYIPC_PORT or 11078)
  --timeout SEC               seconds to wait for an answer (default 30)
  -h, --help / -V, --version  (lyipc COMMAND --help: that command's own help)

Server options (viewer, server install):
  --port N                    port to listen on (default 11078)
  --host ADDR                 address to listen on (default 127.0.0.1); anything else needs a
                              token: LYIPC_TOKEN, else one is made and printed
  --klive [--klive-port N]    also answer gdsfactory/kfactory show() (klive protocol) on
                              127.0.0.1:8082 [--no-klive: stop that]
  --no-autostart              server install: start it from Tools > Inter-process communication
                              server (Ctrl+I) instead of with KLayout
  --allow-remote-v1           server install: accept the old protocol (no token) from other
                              machines [--no-allow-remote-v1: stop that]
  --klayout PATH              viewer: the KLayout to start

Environment: LYIPC_TARGET, LYIPCTARGET, LYIPC_PORT; LYIPC_TOKEN (a viewer on another machine;
no command-line flag, so that it never shows in process lists); KLAYOUT_HOME.

Exit codes: 0 done, 2 could not (no viewer, viewer error, bad usage).
`;

const TARGET = `  --target HOST[:PORT]        the viewer (default: $LYIPC_TARGET, else 127.0.0.1; port
                              $LYIPC_PORT or 11078)
  --timeout SEC               seconds to wait for an answer (default 30)
`;
const COMMON = `${TARGET}  -h, --help                  this help
`;
const SERVER = `  --port N                    port to listen on (default 11078)
  --host ADDR                 address to listen on (default 127.0.0.1); anything else needs a
                              token: LYIPC_TOKEN, else one is made and printed
  --klive [--klive-port N]    also answer gdsfactory/kfactory show() (klive protocol) on
                              127.0.0.1:8082 [--no-klive: stop that]
`;
const EXIT = 'Exit codes: 0 done, 2 could not (no viewer, viewer error, bad usage).\n';

/** Each command's own help (`lyipc COMMAND --help`): what it does, its arguments, its options. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
	load: `Usage: lyipc load FILE [--new | --add] [options]

Show FILE in the viewer: replace the current view's layout (default), in a new view (--new), or
added to the current view as another cellview (--add). A viewer that cannot read FILE (another
machine, a container) gets its bytes.

Options:
  --new                       open FILE in a new view
  --add                       add FILE to the current view
${COMMON}
${EXIT}`,
	reload: `Usage: lyipc reload [FILE] [options]

Reload in place, keeping the viewbox and layers: the current view, or wherever FILE is shown (a
viewer elsewhere gets its new bytes).

Options:
${COMMON}
${EXIT}`,
	status: `Usage: lyipc status [--json] [options]

The viewer's views: their files, cells, viewboxes, layers and marker databases.

Options:
  --json                      print them as JSON
${COMMON}
${EXIT}`,
	screenshot: `Usage: lyipc screenshot OUT.png [--width W] [--height H] [options]

A picture of the current view, written to OUT.png (800 x 600 unless given).

Options:
  --width W, --height H       the picture's size in pixels
${COMMON}
${EXIT}`,
	ping: `Usage: lyipc ping [options]

Is a viewer there? Exit 0 when one answers.

Options:
${COMMON}
${EXIT}`,
	quit: `Usage: lyipc quit [--force] [options]

End the viewer's KLayout; refused while layouts have unsaved changes, unless --force.

Options:
  --force                     quit even with unsaved changes
${COMMON}
${EXIT}`,
	watch: `Usage: lyipc watch FILES... [options]

Show FILES, then reload each in place whenever it is rewritten, once the write is complete.
Ctrl+C stops.

Options:
${COMMON}
${EXIT}`,
	animate: `Usage: lyipc animate FRAMES... [--interval SEC] [--loop] [options]

Play layouts one after the other in one view, keeping the viewbox.

Options:
  --interval SEC              seconds per frame (default 1)
  --loop                      start again after the last frame, until Ctrl+C
${COMMON}
${EXIT}`,
	viewer: `Usage: lyipc viewer [FILES...] [options]

Start KLayout with the lyipc server running (nothing installed), showing FILES; a viewer already
answering at the port gets FILES instead.

Options:
${SERVER}  --klayout PATH              the KLayout to start
${COMMON}
Environment: LYIPC_TOKEN (the token a server on another address wants).

${EXIT}`,
	server: `Usage: lyipc server install [--uninstall] [options]

Install the lyipc server into KLayout: a salt package in $KLAYOUT_HOME/salt (default
~/.klayout); it starts with KLayout. Again: an upgrade, keeping the settings not given.

Options:
  --uninstall                 remove it
${SERVER}  --no-autostart              start it from Tools > Inter-process communication server
                              (Ctrl+I) instead of with KLayout
  --allow-remote-v1           accept the old protocol (no token) from other machines
                              [--no-allow-remote-v1: stop that]
  -h, --help                  this help

${EXIT}`,
	job: `Usage: lyipc job --remote HOST [--get PATTERN]... [--show] -- COMMAND...

Send this folder to a temp folder on HOST (rsync over ssh), run COMMAND there, and bring back the
files matching each PATTERN. COMMAND's words come after --, as they are.

Options:
  --remote HOST               [user@]host to run on
  --get PATTERN               bring back the files matching PATTERN (rsync globs, e.g.
                              'out/**.gds'); may be given again
  --show                      open the layouts brought back in the viewer
  --target HOST[:PORT]        the viewer for --show
  -h, --help                  this help

Exit code: COMMAND's; 2 when it could not run.
`,
	'git-setup': `Usage: lyipc git-setup [--global] [--uninstall]

Make 'git diff' on GDS/OASIS files print the XOR summary: a diff driver in this repository's git
config and .gitattributes.

Options:
  --global                    for every repository (your global git config)
  --uninstall                 remove the driver
  -h, --help                  this help

Exit codes: 0 done, 2 could not.
`,
};
