"""Marker database (.lyrdb) for KLayout's Marker Browser: one category per layer, one item
per difference polygon, capped per category so a whole-layer difference stays browsable, and
in all so that the viewer takes it (lyipc_side_files: 8 MB, 50 000 items, 10 000 cells): a
database beyond the viewer's limits would be shown without any marker."""

import pya

from lyipc_shared import MAX_MARKER_ITEMS

# The whole database, well within the viewer's limits: items, cells and the bytes KLayout
# writes (an item ~220 bytes plus its category and cell names, a polygon point up to 25).
MAX_ITEMS = MAX_MARKER_ITEMS
MAX_CELLS = 5000
MAX_BYTES = 6 * 1024 * 1024
ITEM_BYTES = 220
POINT_BYTES = 25


class MarkerDatabase:
    def __init__(self, dbu, limit, description, max_items=MAX_ITEMS, max_bytes=MAX_BYTES):
        self.dbu = dbu
        self.limit = limit
        self.rdb = pya.ReportDatabase("lyipc-diff")
        self.rdb.generator = "lyipc-diff"
        self.rdb.description = description
        self._categories = {}
        self._cells = {}
        self._written = {}
        self.items = 0
        self.items_left = max_items
        self.bytes_left = max_bytes

    def _category(self, name):
        category = self._categories.get(name)
        if category is None:
            category = self.rdb.create_category(name)
            self._categories[name] = category
            self._written[name] = 0
        return category

    def _cell(self, name):
        cell = self._cells.get(name)
        if cell is None:
            if len(self._cells) >= MAX_CELLS:
                return None
            cell = self.rdb.create_cell(name)
            self._cells[name] = cell
        return cell

    def add(self, cell_name, category_name, description, region):
        """Adds one item per polygon of `region` (database units) up to the category's cap and
        what the whole database has room for. Returns (written, omitted)."""
        total = region.count()
        if total == 0:
            return 0, 0
        category = self._category(category_name)
        category.description = description
        cell = self._cell(cell_name)
        room = max(0, min(self.limit - self._written[category_name], self.items_left)) if cell is not None else 0
        polygons = []
        if room > 0:
            per_item = ITEM_BYTES + len(category_name) + len(cell_name)
            for polygon in region.each():
                size = per_item + POINT_BYTES * polygon.num_points()
                if size > self.bytes_left:
                    break
                self.bytes_left -= size
                polygons.append(polygon)
                if len(polygons) >= room:
                    break
        if polygons:
            # One call: KLayout makes the items in C++ (a Python call per item cost ~6 us).
            self.rdb.create_items(cell.rdb_id(), category.rdb_id(), pya.CplxTrans(self.dbu), polygons)
        written = len(polygons)
        self._written[category_name] += written
        self.items += written
        self.items_left -= written
        return written, total - written

    def note_omitted(self, category_name, omitted):
        if omitted > 0 and category_name in self._categories:
            category = self._categories[category_name]
            category.description = "%s (%d more not listed)" % (category.description, omitted)

    def save(self, path, layout_path):
        if len(self._cells) == 1:
            self.rdb.top_cell_name = next(iter(self._cells))
        if layout_path:
            self.rdb.original_file = layout_path
        self.rdb.save(path)
