"""The viewer server's upload cache: layouts sent over the socket (`upload`), kept for the session
so that reload still finds them, in a private folder (0700) with a quota.

A request is refused before its bytes are taken when they would pass the quota (what the cache
holds plus what is arriving), or leave the disk nearly full. Files no view shows and that have
not been written for a while make room first: `store: true` uploads are used by the request
that follows them, within seconds."""

import os
import re
import shutil
import time
import uuid

from lyipc_errors import JobError
from lyipc_scratch import UPLOADS, scratch_folder

IDLE_BEFORE_EVICTION_S = 300
DISK_RESERVE = 1024 ** 3  # bytes an upload leaves free on its disk (or 5% of a smaller one)


class Upload:
    """The raw bytes of one uploaded layout, written to a hidden temporary file as they arrive
    and renamed to a unique name in the cache folder when complete."""

    def __init__(self, cache, request_id, name, size, params):
        self.cache = cache
        self.request_id = request_id
        self.params = params
        self.size = size
        base = re.sub(r"[^\w.+-]", "_", os.path.basename(name.replace("\\", "/"))).lstrip(".") or "layout.gds"
        self.path = os.path.join(cache.folder, "%s-%s" % (uuid.uuid4().hex[:12], base))
        self.temp = os.path.join(cache.folder, ".%s.part" % os.path.basename(self.path))
        self.remaining = size
        self.file = open(self.temp, "wb")
        cache.arriving.add(self)

    @property
    def complete(self):
        return self.remaining == 0

    def take(self, data):
        """Writes what belongs to this upload; returns the rest."""
        part, rest = data[:self.remaining], data[self.remaining:]
        self.file.write(part)
        self.remaining -= len(part)
        if self.complete:
            self.file.close()
            os.rename(self.temp, self.path)
            self.cache.arriving.discard(self)
        return rest

    def discard(self):
        self.file.close()
        self.cache.arriving.discard(self)
        if os.path.exists(self.temp):
            os.remove(self.temp)


class Cache:
    def __init__(self, quota, shown):
        """`quota`: bytes kept at most; `shown(path)`: whether a view shows that file."""
        self.quota = quota
        self.shown = shown
        self.folder = None
        self.arriving = set()  # Uploads whose bytes are still coming

    def begin(self, request_id, name, size, params):
        """An Upload for `size` bytes, or TOO_LARGE / QUOTA_EXCEEDED / NO_SPACE before any byte."""
        if size > self.quota:
            raise JobError("TOO_LARGE", "upload: %d bytes, more than the viewer's upload quota of %d bytes (uploadQuota in lyipc.json)" % (size, self.quota))
        self.ensure_folder()
        if self.used() + size > self.quota:
            self.evict(self.used() + size - self.quota)
        used = self.used()
        if used + size > self.quota:
            raise JobError("QUOTA_EXCEEDED", "upload: the viewer keeps %d bytes of uploads already; %d more would pass its quota of %d (uploadQuota in lyipc.json; uploads go when KLayout ends)" % (used, size, self.quota))
        disk = shutil.disk_usage(self.folder)
        reserve = min(DISK_RESERVE, disk.total // 20)
        if size > disk.free - reserve:
            raise JobError("NO_SPACE", "upload: %d bytes do not fit on the viewer's disk (%s: %d bytes free, %d kept free)" % (size, self.folder, disk.free, reserve))
        return Upload(self, request_id, name, size, params)

    def ensure_folder(self):
        if self.folder is None or not os.path.isdir(self.folder):
            self.folder = scratch_folder(UPLOADS)

    def kept(self):
        """(path, bytes, mtime) of each complete upload in the folder."""
        files = []
        if self.folder is None:
            return files
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return files
        for entry in entries:
            if entry.name.startswith("."):
                continue  # a .part still arriving: counted by its full size in used()
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            files.append((entry.path, info.st_size, info.st_mtime))
        return files

    def used(self):
        return sum(size for _, size, _ in self.kept()) + sum(upload.size for upload in self.arriving)

    def evict(self, needed):
        """Removes uploads no view shows and not written for a while, oldest first, until
        `needed` bytes are free or none is left to remove."""
        now = time.time()
        for path, size, mtime in sorted(self.kept(), key=lambda entry: entry[2]):
            if needed <= 0:
                return
            if now - mtime < IDLE_BEFORE_EVICTION_S or self.shown(path):
                continue
            try:
                os.remove(path)
                needed -= size
            except OSError:
                pass
