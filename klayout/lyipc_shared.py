"""Values shared with the TypeScript side, read from lyipc_shared.json beside this file."""

import json
import os

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "lyipc_shared.json")) as _file:
    SHARED = json.load(_file)

VIEWER_PORT = SHARED["viewerPort"]
KLIVE_PORT = SHARED["klivePort"]
ENGINE_MODES = tuple(SHARED["engineModes"])
MAX_MARKERS = SHARED["maxMarkers"]
MAX_MARKER_ITEMS = SHARED["maxMarkerItems"]
PICTURE_WIDTH = SHARED["pictureSize"]["width"]
PICTURE_HEIGHT = SHARED["pictureSize"]["height"]
