"""Marker database (.lyrdb) for KLayout's Marker Browser: one category per layer, one item
per difference polygon, capped per category so a whole-layer difference stays browsable."""

import pya


class MarkerDatabase:
    def __init__(self, dbu, limit, description):
        self.dbu = dbu
        self.limit = limit
        self.rdb = pya.ReportDatabase("lyipc-diff")
        self.rdb.generator = "lyipc-diff"
        self.rdb.description = description
        self._categories = {}
        self._cells = {}
        self._written = {}
        self.items = 0

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
            cell = self.rdb.create_cell(name)
            self._cells[name] = cell
        return cell

    def add(self, cell_name, category_name, description, region):
        """Adds one item per polygon of `region` (database units) up to the category's cap.
        Returns (written, omitted)."""
        total = region.count()
        if total == 0:
            return 0, 0
        category = self._category(category_name)
        category.description = description
        cell = self._cell(cell_name)
        room = max(0, self.limit - self._written[category_name])
        polygons = []
        if room > 0:
            for polygon in region.each():
                polygons.append(polygon)
                if len(polygons) >= room:
                    break
            # One call: KLayout makes the items in C++ (a Python call per item cost ~6 us).
            self.rdb.create_items(cell.rdb_id(), category.rdb_id(), pya.CplxTrans(self.dbu), polygons)
        written = len(polygons)
        self._written[category_name] += written
        self.items += written
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
