"""The lyipc version of this server (kept equal to package.json by a test)."""

VERSION = "0.1.0"
