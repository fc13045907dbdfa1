"""The compression methods of layer tars and their level ranges: the one table both sides use.

`layer_tier` checks `compression_level` against it at analysis time; the `pyimage` tool
accepts exactly the same ranges (a contract test in rust/pyimage/tests reads this file and
runs the tool at every bound).
"""

# compression -> struct(min, max, default, ext): inclusive level range, the tool's
# default level, and the layer file extension (the media type follows from it).
COMPRESSIONS = {
    "gzip": struct(min = 0, max = 9, default = 6, ext = ".tar.gz"),
    "none": struct(min = 0, max = 0, default = 0, ext = ".tar"),
    "zstd": struct(min = 1, max = 22, default = 3, ext = ".tar.zst"),
}
