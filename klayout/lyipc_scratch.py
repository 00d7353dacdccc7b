"""Private scratch folders in the temp dir, named by the process that owns them: a KLayout
killed outright (a timeout, a memory cap: SIGKILL skips every `finally`) leaves its folders
behind, and the next KLayout of lyipc removes them."""

import os
import re
import shutil
import tempfile

# The scratch folders of lyipc's KLayouts: each kind's prefix.
CONTEXT_COPIES = "lyipc-context-"
RENDERINGS = "lyipc-render-"
SHOWN_COPIES = "lyipc-shown-"
UPLOADS = "lyipc-uploads-"


def scratch_folder(prefix):
    """A new folder PREFIX<pid>-<random> only this user can enter (mkdtemp: mode 0700, at a
    name nobody could have prepared: a predictable name in /tmp could be another user's
    folder or link)."""
    return tempfile.mkdtemp(prefix="%s%d-" % (prefix, os.getpid()))


def remove_stale(*prefixes):
    """Removes this user's scratch folders of `prefixes` whose process is gone (POSIX only:
    os.kill(pid, 0) probes). Links and other users' folders are left alone."""
    if os.name != "posix":
        return
    folder = tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    pattern = re.compile(r"^(?:%s)(\d+)-\w+$" % "|".join(re.escape(prefix) for prefix in prefixes))
    for name in names:
        match = pattern.match(name)
        if not match:
            continue
        path = os.path.join(folder, name)
        try:
            info = os.lstat(path)
            if info.st_uid != os.getuid() or not os.path.isdir(path) or os.path.islink(path):
                continue
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass  # alive (another user's process), or gone meanwhile
